/**
 * The book's chapters, one per notebook in notebooks/. A chapter's page exists only once its notebook has
 * been executed and converted (website/docs/chapters/<file>.mdx); the landing page links the ones that
 * exist and lists the others as "not built yet", so a partial set of notebooks never breaks the site.
 * Keep `title` in step with the notebook's `# NN · Title: …` heading (the sidebar shows the heading).
 */
export interface Chapter {
  /** Number prefix of the notebook file (`01-…`): pages are matched by it, so renaming the rest is fine. */
  number: string;
  title: string;
  paper: string;
  summary: string;
}

export const CHAPTERS: Chapter[] = [
  {
    number: '01',
    title: 'Selectivity primer',
    paper: 'Sec. 3, Tab. 2',
    summary: 'S4D vs S6 on one toy sequence: the step Δₜ, Bₜ, Cₜ, decays and hidden states over time.',
  },
  {
    number: '02',
    title: 'Haar wavelets from Mamba bases',
    paper: 'Sec. 4.1, Thm. 1, Cor. 1',
    summary: 'S6 basis functions approximate Haar wavelets; best-N-term rates for discontinuous targets, Mamba vs S4D.',
  },
  {
    number: '03',
    title: 'Sensitivity decay',
    paper: 'Sec. 4.2, Lem. 1–2',
    summary: 'How the sensitivity of the state to past inputs decays, and how input-dependent Δ counteracts it.',
  },
  {
    number: '04',
    title: 'KEEP n-TH',
    paper: 'Sec. 4.1–4.2, Tab. 1, Fig. 1',
    summary: 'KEEP FIFTH: Tab. 1 with a live training curve, and Fig. 1’s decay distributions.',
  },
  {
    number: '05',
    title: 'MQAR solved by hand',
    paper: 'Sec. 5.1, Thm. 2–4, Tab. 3',
    summary: 'Exact MQAR solutions with Mamba, Mamba-2 and S4D mixers, and how tight their size bounds are.',
  },
  {
    number: '06',
    title: 'INDUCTION HEADS',
    paper: 'Sec. 5.2, Eq. 15, Lem. 3',
    summary: 'Mamba-Δ⊤ (Δ along the state dimension) solves INDUCTION HEADS in one layer.',
  },
];

/** The paper's claims, each with the chapters that make it runnable. */
export interface Claim {
  title: string;
  text: string;
  where: string;
  chapters: string[];
}

export const CLAIMS: Claim[] = [
  {
    title: 'Input selectivity changes the basis',
    text: 'S6 makes the step Δ, B and C functions of the input, so its basis functions can switch on and off with the token — S4D’s are fixed exponentials.',
    where: 'Sec. 3',
    chapters: ['01'],
  },
  {
    title: 'S6 can represent Haar wavelets',
    text:
      'An S6 layer can approximate projections onto Haar wavelets arbitrarily well, which gives it an edge over S4D ' +
      'on discontinuous (piecewise-constant) functions.',
    where: 'Thm. 1, Cor. 1',
    chapters: ['02'],
  },
  {
    title: 'Memory decays — and S6 can counteract it',
    text:
      'The sensitivity of the state to past inputs decays exponentially; by choosing Δ per token S6 can hold a value ' +
      '(KEEP n-TH with a positional encoding), while S4D cannot.',
    where: 'Lem. 1–2, Cor. 2, Tab. 1, Fig. 1',
    chapters: ['03', '04'],
  },
  {
    title: 'Exact MQAR solutions with explicit model sizes',
    text:
      'One-layer Mamba, Mamba-2 and Mamba with an S4D mixer solve MQAR exactly, with the embedding and state sizes ' +
      'the constructions prescribe; the bounds are close to what training needs.',
    where: 'Thm. 2–4, Tab. 3',
    chapters: ['05'],
  },
  {
    title: 'Δ along the state dimension solves induction heads',
    text: 'Making the step depend on the state dimension (Mamba-Δ⊤) lets a one-layer model solve INDUCTION HEADS — an opportunity to improve Mamba.',
    where: 'Sec. 5.2, Lem. 3',
    chapters: ['06'],
  },
];
