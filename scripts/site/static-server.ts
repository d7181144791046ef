/**
 * A minimal static file server for the built site (build/site/), used by the browser tests and
 * `npm run serve:site -- --check`-style tooling. Resolves `/a/b` to `a/b.html`, `a/b/index.html` or the
 * file itself (Docusaurus with trailingSlash: false), serves 404.html for anything else.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.ipynb': 'application/x-ipynb+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.xml': 'application/xml',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

function resolveFile(root: string, urlPath: string): string | null {
  let p: string;
  try {
    p = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
  } catch {
    return null;
  }
  const abs = normalize(join(root, p));
  if (abs !== root && !abs.startsWith(root + sep)) return null;
  for (const c of [abs, `${abs}.html`, join(abs, 'index.html')]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

/**
 * Serve `dir` on 127.0.0.1:`port` (0 = any free port). Resolves once listening. `basePath` (e.g.
 * `/selectivity-lab/`) serves the folder under that path, as a host does for a site built with that BASE_URL;
 * anything outside it is a 404.
 */
export function serveStatic(
  dir: string,
  port = 0,
  host = '127.0.0.1',
  basePath = '/',
): Promise<{ server: Server; url: string }> {
  const root = resolve(dir);
  const prefix = basePath.replace(/\/+$/, '');
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const inside = !prefix || url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`);
    const file = inside ? resolveFile(root, url.slice(prefix.length) || '/') : null;
    const status = file ? 200 : 404;
    const path = file ?? join(root, '404.html');
    if (!existsSync(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(status, {
      'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(path).pipe(res);
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const addr = server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      done({ server, url: `http://${host}:${p}` });
    });
  });
}

/**
 * The base URL a Docusaurus build was made for (`/` or e.g. `/selectivity-lab/`), read from where its
 * index.html loads the runtime bundle (`<base>assets/js/runtime~main.<hash>.js`).
 */
export function builtBaseUrl(dir: string): string {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const m = /src="([^"]*?)assets\/js\/runtime~main\.[^"]*\.js"/.exec(html);
  if (!m)
    throw new Error(`${join(dir, 'index.html')} does not load assets/js/runtime~main.*.js: not a Docusaurus build?`);
  return new URL(m[1], 'http://host/').pathname;
}
