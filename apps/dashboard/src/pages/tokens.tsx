import { PermissionError } from "@hugo/client";
import type { AuthSession, CreatedToken, Token, TokenScope } from "@hugo/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { client } from "../client.ts";
import { errorMessage } from "../errors.ts";
import { formatDate, formatDateTime, formatRelative } from "../format.ts";
import { ALL_SCOPES, DEFAULT_SCOPES, SCOPES } from "../scopes.ts";
import {
  Alert,
  ConfirmDialog,
  Field,
  formText,
  PageHeader,
  Spinner,
  useFormCheck,
  useNotice,
} from "../ui.tsx";
import { NoAccess } from "./no-access.tsx";

const EXPIRIES = [
  { label: "Never", seconds: 0 },
  { label: "In 30 days", seconds: 30 * 86_400 },
  { label: "In 90 days", seconds: 90 * 86_400 },
  { label: "In 1 year", seconds: 365 * 86_400 },
];

/** Settings → API tokens: list, create (the secret shown once), revoke after a confirmation. */
export function TokensSection({ session }: { session: AuthSession }) {
  const queryClient = useQueryClient();
  const key = ["tokens", session.website_id];
  const tokens = useQuery({ queryKey: key, queryFn: () => client.tokens.list() });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const notice = useNotice();
  const formId = useId();

  const revoke = useMutation({
    mutationFn: (token: Token) => client.tokens.revoke(token.id),
    onSuccess: async (_data, token) => {
      await queryClient.invalidateQueries({ queryKey: key });
      setRevoking(null);
      notice.say(`“${token.name}” is revoked: requests with it are refused from now on.`);
    },
  });

  if (tokens.error instanceof PermissionError)
    return (
      <>
        <PageHeader title="API tokens" />
        <NoAccess session={session} error={tokens.error} what="API tokens">
          Agents work conversations; owners and admins manage API tokens. Ask one of them if you need a token.
        </NoAccess>
      </>
    );

  return (
    <>
      <PageHeader
        title="API tokens"
        description="Tokens let your backend call Hugo: trigger workflows, ask the agent to step in, or use the Crisp-compatible REST API."
        actions={
          !creating &&
          !created && (
            <button
              type="button"
              className="button button-primary"
              aria-expanded={false}
              aria-controls={formId}
              onClick={() => {
                notice.clear();
                setCreating(true);
              }}
            >
              New token
            </button>
          )
        }
      />
      {notice.element}
      {creating && (
        <CreateToken
          id={formId}
          onCancel={() => setCreating(false)}
          onCreated={(token) => {
            setCreating(false);
            setCreated(token);
            void queryClient.invalidateQueries({ queryKey: key });
          }}
        />
      )}
      {created && <NewSecret token={created} onDone={() => setCreated(null)} />}
      <section className="card card-flush" aria-labelledby="tokens-title">
        <h2 id="tokens-title" className="card-title card-pad">
          Tokens of this website
        </h2>
        {tokens.isPending ? (
          <Spinner label="Loading tokens…" />
        ) : tokens.isError ? (
          <div className="card-pad">
            <Alert title="Couldn't load the tokens">{errorMessage(tokens.error)}</Alert>
          </div>
        ) : tokens.data.length === 0 ? (
          <p className="muted card-pad">No token yet. Create one for your backend with “New token”.</p>
        ) : (
          <TokenTable tokens={tokens.data} onRevoke={(t) => setRevoking(t)} />
        )}
      </section>
      {revoking && (
        <ConfirmDialog
          title={`Revoke “${revoking.name}”?`}
          confirm="Revoke token"
          confirming="Revoking…"
          pending={revoke.isPending}
          error={revoke.isError ? errorMessage(revoke.error) : undefined}
          onCancel={() => {
            revoke.reset();
            setRevoking(null);
          }}
          onConfirm={() => revoke.mutate(revoking)}
        >
          Anything using this token (<code>{revoking.hint}…</code>) is refused from the next request. This
          can't be undone.
        </ConfirmDialog>
      )}
    </>
  );
}

function scopeSummary(scopes: TokenScope[]): string {
  if (ALL_SCOPES.every((s) => scopes.includes(s))) return "Full access";
  // In the form's order (what a backend needs first), not the server's alphabetical one.
  return ALL_SCOPES.filter((s) => scopes.includes(s)).join(", ");
}

function status(token: Token, now: number): { label: string; tone: string } {
  if (token.revoked_at !== null) return { label: "Revoked", tone: "muted" };
  if (token.expires_at !== null && token.expires_at <= now) return { label: "Expired", tone: "muted" };
  return { label: "Active", tone: "success" };
}

function TokenTable({ tokens, onRevoke }: { tokens: Token[]; onRevoke: (token: Token) => void }) {
  const now = Date.now();
  return (
    <div className="table-scroll">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Scopes</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((t) => {
            const s = status(t, now);
            const live = s.label === "Active";
            return (
              <tr key={t.id} data-token={t.id} className={live ? undefined : "row-muted"}>
                <th scope="row">
                  {t.name}
                  <span className="cell-sub">
                    <code title="The start of the secret">{t.hint}…</code>
                  </span>
                </th>
                <td className="scopes-cell" title={t.scopes.join(", ")}>
                  {scopeSummary(t.scopes)}
                </td>
                <td>
                  <time title={formatDateTime(t.created_at)}>{formatDate(t.created_at)}</time>
                </td>
                <td>
                  {t.last_used_at === null ? (
                    <span className="muted">Never</span>
                  ) : (
                    <time title={formatDateTime(t.last_used_at)}>{formatRelative(t.last_used_at)}</time>
                  )}
                </td>
                <td>
                  <span className={`status status-${s.tone}`}>{s.label}</span>
                  {live && t.expires_at !== null && (
                    <span className="cell-sub">until {formatDate(t.expires_at)}</span>
                  )}
                </td>
                <td className="actions">
                  {live && (
                    <button
                      type="button"
                      className="button button-small button-danger-ghost"
                      aria-label={`Revoke ${t.name}`}
                      onClick={() => onRevoke(t)}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function CreateToken(props: { id: string; onCancel: () => void; onCreated: (token: CreatedToken) => void }) {
  const [scopes, setScopes] = useState<TokenScope[]>(DEFAULT_SCOPES);
  const create = useMutation({
    mutationFn: (body: { name: string; scopes: TokenScope[]; expires_in?: number }) =>
      client.tokens.create(body),
    onSuccess: props.onCreated,
    onError: () => check.focusInvalid(),
  });
  const check = useFormCheck(create.error);
  const form = check.form;
  useEffect(() => form.current?.querySelector("input")?.focus(), [form]);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const name = formText(event.currentTarget, "name").trim();
    const expires = Number(formText(event.currentTarget, "expires") || 0);
    const ok = check.check({
      ...(name ? {} : { name: "Name the token, e.g. after the app that will use it." }),
      ...(scopes.length ? {} : { scopes: "Choose at least one scope." }),
    });
    if (ok) create.mutate({ name, scopes, ...(expires ? { expires_in: expires } : {}) });
  };
  const toggle = (scope: TokenScope, on: boolean) =>
    setScopes((current) =>
      on ? ALL_SCOPES.filter((s) => s === scope || current.includes(s)) : current.filter((s) => s !== scope),
    );

  const { errors } = check;
  return (
    <section id={props.id} className="card" aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`} className="card-title">
        New API token
      </h2>
      {create.isError && !check.refusedHere && (
        <Alert title="Couldn't create the token">{errorMessage(create.error)}</Alert>
      )}
      <form ref={form} onSubmit={submit} noValidate className="form">
        <div className="form-row">
          <Field
            label="Name"
            name="name"
            placeholder="Backend"
            maxLength={100}
            required
            hint="Who or what uses it: you'll recognise it here later."
            error={errors.name}
          />
          <div className="field">
            <label htmlFor={`${props.id}-expires`}>Expires</label>
            <select id={`${props.id}-expires`} name="expires" className="select" defaultValue="0">
              {EXPIRIES.map((e) => (
                <option key={e.seconds} value={e.seconds}>
                  {e.label}
                </option>
              ))}
            </select>
          </div>
        </div>
        <fieldset
          className="scopes"
          aria-invalid={errors.scopes ? true : undefined}
          aria-describedby={errors.scopes ? `${props.id}-scopes-error` : undefined}
        >
          <legend>
            Scopes{" "}
            <span className="legend-actions">
              <button type="button" className="link-button" onClick={() => setScopes([...ALL_SCOPES])}>
                Select all
              </button>
              <button type="button" className="link-button" onClick={() => setScopes([])}>
                Clear
              </button>
            </span>
          </legend>
          <div className="scope-grid">
            {ALL_SCOPES.map((scope) => (
              <label key={scope} className="check">
                <input
                  type="checkbox"
                  name="scopes"
                  value={scope}
                  checked={scopes.includes(scope)}
                  onChange={(e) => toggle(scope, e.currentTarget.checked)}
                />
                <span>
                  <code>{scope}</code>
                  <span className="check-note">{SCOPES[scope]}</span>
                </span>
              </label>
            ))}
          </div>
          {errors.scopes && (
            <p id={`${props.id}-scopes-error`} className="field-error">
              {errors.scopes}
            </p>
          )}
        </fieldset>
        <div className="form-actions">
          <button type="button" className="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            {create.isPending ? "Creating…" : "Create token"}
          </button>
        </div>
      </form>
    </section>
  );
}

/** The one time the secret is shown: a copy button, and it is gone once dismissed. */
function NewSecret({ token, onDone }: { token: CreatedToken; onDone: () => void }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState<"" | "copied" | "select">("");
  useEffect(() => heading.current?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(token.token);
      setCopied("copied");
    } catch {
      // No clipboard API (plain http off localhost) or no permission: select it for Ctrl+C.
      input.current?.select();
      setCopied("select");
    }
  };
  return (
    <section className="card secret-card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} ref={heading} tabIndex={-1} className="card-title">
        Copy your new token now
      </h2>
      <p>
        This is the only time Hugo shows the secret of “{token.name}”. Keep it in your server's configuration
        — never in a web page.
      </p>
      <div className="secret-row">
        <label htmlFor={`${id}-secret`} className="visually-hidden">
          Token secret
        </label>
        <input
          id={`${id}-secret`}
          ref={input}
          className="input mono"
          readOnly
          value={token.token}
          onFocus={(e) => e.currentTarget.select()}
          spellCheck={false}
        />
        <button type="button" className="button button-primary" onClick={copy}>
          {copied === "copied" ? "Copied" : "Copy"}
        </button>
      </div>
      <p className="small muted" role="status">
        {copied === "copied"
          ? "Copied to the clipboard."
          : copied === "select"
            ? "Your browser blocked the clipboard: the token is selected, press Ctrl+C (⌘C on a Mac)."
            : ""}
      </p>
      <details className="small">
        <summary>Credentials for the Crisp-compatible REST API</summary>
        <dl className="pairs">
          <dt>Identifier</dt>
          <dd>
            <code>{token.identifier}</code>
          </dd>
          <dt>Key</dt>
          <dd>
            <code>{token.key}</code>
          </dd>
        </dl>
      </details>
      <div className="form-actions">
        <button type="button" className="button" onClick={onDone}>
          Done, I've stored it
        </button>
      </div>
    </section>
  );
}
