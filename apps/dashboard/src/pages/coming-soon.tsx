import type { ReactNode } from "react";
import { Link } from "wouter";
import { PageHeader } from "../ui.tsx";

/** A section that is not built yet, said plainly, with what works in the meantime. */
export function ComingSoon(props: { title: string; summary: string; meanwhile?: ReactNode }) {
  return (
    <>
      <PageHeader title={props.title} />
      <section className="card empty-state" aria-labelledby="coming-soon-title">
        <span className="badge">Coming in a later version</span>
        <h2 id="coming-soon-title">This part of the dashboard isn't built yet</h2>
        <p>{props.summary}</p>
        {props.meanwhile && <p className="muted">Meanwhile: {props.meanwhile}</p>}
        <p className="muted">
          Already here: <Link href="/inbox">Inbox</Link>, <Link href="/analytics">Analytics</Link> and{" "}
          <Link href="/settings/tokens">Settings → API tokens</Link>.
        </p>
      </section>
    </>
  );
}

export function NotFound() {
  return (
    <>
      <PageHeader title="Page not found" />
      <section className="card empty-state">
        <p>There is no page at this address.</p>
        <p>
          <Link href="/inbox">Go to the inbox</Link>
        </p>
      </section>
    </>
  );
}
