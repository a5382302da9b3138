import type { AuthSession } from "@hugo/protocol";
import { Link } from "wouter";
import { PageHeader } from "../ui.tsx";
import { ComingSoon } from "./coming-soon.tsx";
import { TokensSection } from "./tokens.tsx";

const SECTIONS = [
  { id: "tokens", label: "API tokens" },
  { id: "widget", label: "Chat widget" },
  { id: "operators", label: "Operators" },
] as const;

export default function SettingsPage({ session, section }: { session: AuthSession; section: string }) {
  const current = SECTIONS.find((s) => s.id === section);
  return (
    <div className="settings">
      <nav aria-label="Settings" className="subnav">
        <p className="subnav-title">Settings</p>
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.id}>
              <Link
                href={`/settings/${s.id}`}
                className={s.id === section ? "subnav-link active" : "subnav-link"}
                aria-current={s.id === section ? "page" : undefined}
              >
                {s.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="settings-body">
        {section === "tokens" ? (
          <TokensSection session={session} />
        ) : section === "widget" ? (
          <ComingSoon
            title="Chat widget"
            summary="The install snippet for your website, with its id filled in, and the widget's appearance."
            meanwhile={
              <>
                Add the standard Crisp snippet with its script URL pointed at <code>/l.js</code> on this Hugo
                (see the <a href="/demo">demo page</a>); your website id is <code>{session.website_id}</code>.
              </>
            }
          />
        ) : section === "operators" ? (
          <ComingSoon
            title="Operators"
            summary="Invite your team and choose each person's role (owner, admin, agent)."
            meanwhile={
              <>
                Operators are managed through <code>/api/operators</code> (see the{" "}
                <a href="/api/docs">API reference</a>).
              </>
            }
          />
        ) : (
          <PageHeader title={current?.label ?? "Settings"} description="There is no such settings page." />
        )}
      </div>
    </div>
  );
}
