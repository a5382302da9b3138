import type { AuthSession } from "@hugo/protocol";
import { Link } from "wouter";
import { PageHeader } from "../ui.tsx";
import { OperatorsSection } from "./operators.tsx";
import { TokensSection } from "./tokens.tsx";
import { WidgetSection } from "./widget.tsx";

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
          <WidgetSection session={session} />
        ) : section === "operators" ? (
          <OperatorsSection session={session} />
        ) : (
          <PageHeader title={current?.label ?? "Settings"} description="There is no such settings page." />
        )}
      </div>
    </div>
  );
}
