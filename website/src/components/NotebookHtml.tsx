/** A notebook's text/html output (tables and the like). Scripts in it do not run. */
import React from 'react';

export default function NotebookHtml({ html }: { html: string }): React.ReactElement {
  return <div className="nb-output nb-output--html" dangerouslySetInnerHTML={{ __html: html }} />;
}
