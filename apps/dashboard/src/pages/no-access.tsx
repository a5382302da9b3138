import type { PermissionError } from "@hugo/client";
import type { AuthSession } from "@hugo/protocol";
import type { ReactNode } from "react";
import { Icon } from "../icons.tsx";
import { ROLE_LABELS } from "../roles.ts";

/** A section the operator's role may not open (a 403 from its first request): who may, and Hugo's answer. */
export function NoAccess(props: {
  session: AuthSession;
  error: PermissionError;
  what: string;
  children: ReactNode;
}) {
  const { session, error } = props;
  const website = session.websites.find((w) => w.id === session.website_id)?.name ?? "this website";
  return (
    <section className="card empty-state no-access" aria-labelledby="no-access-title">
      <span className="empty-icon">
        <Icon name="lock" size={28} />
      </span>
      <h2 id="no-access-title">You don't have access to {props.what}</h2>
      <p>
        Your role on {website} is <strong>{ROLE_LABELS[session.role]}</strong>. {props.children}
      </p>
      <p className="muted small">
        Hugo answered: {error.message} ({error.code})
      </p>
    </section>
  );
}
