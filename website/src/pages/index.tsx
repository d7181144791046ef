/** Landing page: the paper's claims, each linked to the chapters (executed notebooks) that make it runnable. */
import React from 'react';
import Layout from '@theme/Layout';
import Link from '@docusaurus/Link';
import { useAllDocsData } from '@docusaurus/plugin-content-docs/client';
import { CHAPTERS, CLAIMS, type Chapter } from '../chapters';

/** Paths of the chapter pages that exist in this build, keyed by notebook number. */
function useChapterPaths(): Map<string, string> {
  const all = useAllDocsData();
  const docs = Object.values(all).flatMap((plugin) => plugin.versions.flatMap((v) => v.docs));
  const paths = new Map<string, string>();
  for (const d of docs) {
    const m = /^chapters\/(\d+)-/.exec(d.id);
    if (m && !paths.has(m[1])) paths.set(m[1], d.path);
  }
  return paths;
}

function ChapterLink({ chapter, path }: { chapter: Chapter; path?: string }) {
  const label = `${chapter.number} · ${chapter.title}`;
  return path ? (
    <Link to={path}>{label}</Link>
  ) : (
    <span className="landing__missing" title="Its notebook has not been executed in this build">
      {label} (not built yet)
    </span>
  );
}

export default function Home(): React.ReactElement {
  const paths = useChapterPaths();
  const byNumber = new Map(CHAPTERS.map((c) => [c.number, c]));
  const first = CHAPTERS.find((c) => paths.has(c.number));
  return (
    <Layout
      title="Understanding Input Selectivity in Mamba"
      description="A runnable, checkable companion to Huang et al., ICML 2025."
    >
      <header className="landing__hero">
        <div className="container">
          <h1 className="landing__title">Understanding Input Selectivity in Mamba</h1>
          <p className="landing__subtitle">
            A runnable companion to Huang, Sarabia, Moudgil, Rodríguez, Zappella and Danieli (ICML 2025): every chapter
            is a TypeScript notebook, executed on <code>ssm-core</code> and rendered here with its outputs and
            interactive figures.
          </p>
          <div className="landing__buttons">
            {first ? (
              <Link className="button button--primary button--lg" to={paths.get(first.number)!}>
                Start reading
              </Link>
            ) : null}
            <Link className="button button--secondary button--lg" to="/playground">
              Open the playground
            </Link>
          </div>
        </div>
      </header>
      <main className="container margin-vert--lg">
        <h2>What the paper claims</h2>
        <p>
          Mamba’s S6 layer makes the state-space parameters <em>input-dependent</em>: the step Δ<sub>t</sub>, B
          <sub>t</sub> and C<sub>t</sub> are computed from the token. The paper asks what this buys:
        </p>
        <div className="landing__claims">
          {CLAIMS.map((claim) => (
            <section key={claim.title} className="landing__claim">
              <h3>{claim.title}</h3>
              <p>{claim.text}</p>
              <p className="landing__where">
                <span className="badge badge--secondary">{claim.where}</span>{' '}
                {claim.chapters.map((n, i) => (
                  <React.Fragment key={n}>
                    {i ? ', ' : ''}
                    <ChapterLink chapter={byNumber.get(n)!} path={paths.get(n)} />
                  </React.Fragment>
                ))}
              </p>
            </section>
          ))}
        </div>
        <h2 className="margin-top--lg">Chapters</h2>
        <table className="landing__chapters">
          <thead>
            <tr>
              <th>chapter</th>
              <th>paper</th>
              <th>what</th>
            </tr>
          </thead>
          <tbody>
            {CHAPTERS.map((c) => (
              <tr key={c.number}>
                <td>
                  <ChapterLink chapter={c} path={paths.get(c.number)} />
                </td>
                <td>{c.paper}</td>
                <td>{c.summary}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>
          Run it yourself: <code>npm install && npm start</code> — see <Link to="/running-locally">Run it locally</Link>
          .
        </p>
      </main>
    </Layout>
  );
}
