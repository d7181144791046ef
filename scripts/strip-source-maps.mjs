// Run by a package's `prepack` after its build: removes the source maps from dist/ and the `sourceMappingURL`
// comments that point to them. The maps serve debugging inside this repository (declaration maps take an editor from
// ssm-lab to ssm-core's sources); a tarball ships no sources, so its maps could point nowhere, and a comment naming a
// missing map makes bundlers (Vite, webpack's source-map-loader) warn in the user's build.
// Usage (from a package folder): node ../../scripts/strip-source-maps.mjs dist
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/strip-source-maps.mjs <dist folder>');
  process.exit(2);
}
let maps = 0;
let comments = 0;
const walk = (d) => {
  for (const f of readdirSync(d)) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (f.endsWith('.map')) {
      rmSync(p);
      maps++;
    } else if (/\.(c|m)?js$|\.d\.(c|m)?ts$/.test(f)) {
      const text = readFileSync(p, 'utf8');
      const stripped = text.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');
      if (stripped !== text) {
        writeFileSync(p, stripped);
        comments++;
      }
    }
  }
};
walk(dir);
console.log(`${dir}: removed ${maps} source map(s) and ${comments} sourceMappingURL comment(s)`);
