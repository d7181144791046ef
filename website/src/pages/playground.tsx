/** The live playground: ssm-core's analytic constructions running in the reader's browser. */
import React from 'react';
import Layout from '@theme/Layout';
import BrowserOnly from '@docusaurus/BrowserOnly';
import Link from '@docusaurus/Link';

export default function PlaygroundPage(): React.ReactElement {
  return (
    <Layout
      title="Playground"
      description="Run the paper's analytic MQAR and induction-heads constructions in your browser."
    >
      <main className="container margin-vert--lg">
        <h1>Playground</h1>
        <p>
          The paper proves that a one-layer Mamba solves MQAR exactly — with an S6 mixer (Thm. 2), a Mamba-2 mixer (Thm.
          3) or an S4D mixer with the gate (Thm. 4) — and that Mamba-Δ⊤ solves INDUCTION HEADS (Lem. 3), with explicit
          embedding sizes d and state sizes N. Here <code>ssm-core</code> builds those weights into the ordinary block
          and runs it with TensorFlow.js in your browser: pick the sizes, feed random sequences, and compare the
          accuracy and the sizes with the theorem’s bound. The Johnson–Lindenstrauss embedding (Step 2 of each proof)
          lets you choose d below the one-hot size; “Sweep d” shows where the construction stops being exact. The
          derivations are in the MQAR and induction-heads chapters (see the <Link to="/">chapter list</Link>).
        </p>
        <BrowserOnly fallback={<p>The playground runs in the browser (JavaScript required).</p>}>
          {() => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const Playground = require('../components/playground/Playground').default as React.ComponentType;
            return <Playground />;
          }}
        </BrowserOnly>
      </main>
    </Layout>
  );
}
