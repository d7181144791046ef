/** A notebook's text output (stdout, stderr, an execute result or an error traceback). */
import React from 'react';

export interface NotebookOutputProps {
  kind: 'stdout' | 'stderr' | 'result' | 'error';
  text: string;
}

const LABELS: Record<NotebookOutputProps['kind'], string> = {
  stdout: 'output',
  stderr: 'stderr',
  result: 'result',
  error: 'error',
};

export default function NotebookOutput({ kind, text }: NotebookOutputProps): React.ReactElement {
  return (
    <div className={`nb-output nb-output--${kind}`} data-kind={kind}>
      <span className="nb-output__label">{LABELS[kind]}</span>
      <pre className="nb-output__text">{text}</pre>
    </div>
  );
}
