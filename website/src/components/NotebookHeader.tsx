/** The line under a chapter's title: download the executed notebook, how to run it yourself. */
import React from 'react';
import useBaseUrl from '@docusaurus/useBaseUrl';

export interface NotebookHeaderProps {
  /** File name of the executed notebook, e.g. `01-selectivity-primer.ipynb`. */
  notebook: string;
  /** Executed in quick mode (NOTEBOOK_QUICK=1): small training runs. */
  quick?: boolean;
  /** The execution succeeded. */
  ok?: boolean;
  /** False when the page was built from the stored notebook (no Jupyter here): code and prose, no outputs. */
  executed?: boolean;
}

export default function NotebookHeader({
  notebook,
  quick,
  ok = true,
  executed = true,
}: NotebookHeaderProps): React.ReactElement {
  const href = useBaseUrl(`/notebooks/${notebook}`);
  return (
    <div className="nb-header">
      <a className="button button--sm button--primary" href={href} download={notebook}>
        Download {notebook}
      </a>
      <span className="nb-header__text">
        Generated from the {executed ? 'executed' : 'stored'} notebook
        {quick ? (
          <>
            {' '}
            in <strong>quick mode</strong> (small training runs)
          </>
        ) : null}
        . Open it yourself: <code>npm run lab</code>, then <code>notebooks/{notebook}</code>.
      </span>
      {executed ? null : (
        <div className="alert alert--warning nb-header__failed" role="alert">
          This page was built without executing the notebook (no Jupyter on the machine that built it), so it shows the
          code and the prose but no outputs or figures. Install Jupyter (see the README) and run <code>npm start</code>{' '}
          again to see them.
        </div>
      )}
      {ok ? null : (
        <div className="alert alert--danger nb-header__failed" role="alert">
          This notebook failed while executing; the outputs below stop at the failing cell.
        </div>
      )}
    </div>
  );
}
