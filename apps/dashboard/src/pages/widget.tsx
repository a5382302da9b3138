import { PermissionError } from "@hugo/client";
import type { AuthSession, WebsiteSettings } from "@hugo/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useRef, useState } from "react";
import { client } from "../client.ts";
import { errorMessage, fieldErrors } from "../errors.ts";
import { Alert, Field, formText, PageHeader, Spinner } from "../ui.tsx";
import { NoAccess } from "./no-access.tsx";

/** The install snippet Hugo documents (packages/widget/README.md): Crisp's, with Hugo's loader URL. */
export function widgetSnippet(origin: string, websiteId: string): string {
  return [
    "<script>",
    `  window.$crisp = []; window.CRISP_WEBSITE_ID = ${JSON.stringify(websiteId)};`,
    `  (function(){var d=document,s=d.createElement("script");s.src=${JSON.stringify(`${origin}/l.js`)};s.async=1;d.getElementsByTagName("head")[0].appendChild(s);})();`,
    "</script>",
  ].join("\n");
}

/** Settings → Chat widget: the install snippet with a copy button, and the origins allowed to use it. */
export function WidgetSection({ session }: { session: AuthSession }) {
  const key = ["website", session.website_id];
  const website = useQuery({ queryKey: key, queryFn: () => client.website.get() });

  if (website.error instanceof PermissionError)
    return (
      <>
        <PageHeader title="Chat widget" />
        <NoAccess session={session} error={website.error} what="the chat widget's settings">
          Agents work conversations; owners and admins install the widget and choose where it may run. Ask one
          of them for the snippet.
        </NoAccess>
      </>
    );

  return (
    <>
      <PageHeader
        title="Chat widget"
        description="Add the chat to your website: paste the snippet before </body> on every page. Sites written for Crisp only change the script URL."
      />
      <Snippet session={session} />
      <section className="card" aria-labelledby="origins-title">
        <h2 id="origins-title" className="card-title">
          Allowed origins
        </h2>
        {website.isPending ? (
          <Spinner label="Loading the widget's settings…" />
        ) : website.isError ? (
          <Alert title="Couldn't load the widget's settings">{errorMessage(website.error)}</Alert>
        ) : (
          <Origins website={website.data} queryKey={key} />
        )}
      </section>
    </>
  );
}

function Snippet({ session }: { session: AuthSession }) {
  const id = useId();
  const area = useRef<HTMLTextAreaElement>(null);
  const [copied, setCopied] = useState<"" | "copied" | "select">("");
  const snippet = widgetSnippet(window.location.origin, session.website_id);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(snippet);
      setCopied("copied");
    } catch {
      // No clipboard API (plain http off localhost) or no permission: select it for Ctrl+C.
      area.current?.select();
      setCopied("select");
    }
  };
  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="card-title">
        Install snippet
      </h2>
      <p className="small muted">
        Website id <code>{session.website_id}</code>, served by this Hugo at{" "}
        <code>{window.location.origin}</code>.
      </p>
      <label htmlFor={`${id}-snippet`} className="visually-hidden">
        Install snippet
      </label>
      <textarea
        id={`${id}-snippet`}
        ref={area}
        className="input mono snippet"
        readOnly
        rows={6}
        value={snippet}
        onFocus={(e) => e.currentTarget.select()}
        spellCheck={false}
      />
      <div className="form-actions">
        <p className="small muted snippet-status" role="status">
          {copied === "copied"
            ? "Copied to the clipboard."
            : copied === "select"
              ? "Your browser blocked the clipboard: the snippet is selected, press Ctrl+C (⌘C on a Mac)."
              : ""}
        </p>
        <button type="button" className="button button-primary" onClick={copy}>
          {copied === "copied" ? "Copied" : "Copy snippet"}
        </button>
      </div>
    </section>
  );
}

/** The server's messages about the origins list (`widget.allowed_origins.N`), as one sentence. */
function originError(error: unknown): string | undefined {
  const errors = fieldErrors(error);
  return Object.entries(errors).find(([path]) => path.startsWith("widget.allowed_origins"))?.[1];
}

function Origins({ website, queryKey }: { website: WebsiteSettings; queryKey: unknown[] }) {
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [local, setLocal] = useState("");
  const [notice, setNotice] = useState("");
  const origins = website.widget.allowed_origins;
  const save = useMutation({
    mutationFn: (next: { list: string[]; done: string }) =>
      client.website.update({ widget: { allowed_origins: next.list } }),
    onSuccess: (data, next) => {
      queryClient.setQueryData(queryKey, data);
      setNotice(next.done);
      form.current?.reset();
    },
    onError: () =>
      requestAnimationFrame(() => form.current?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus()),
  });
  const serverError = save.isError ? originError(save.error) : undefined;
  const error = local || serverError;

  const add = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const origin = formText(event.currentTarget, "origin").trim();
    setNotice("");
    if (!origin) {
      setLocal("Enter an origin, such as https://shop.example.com.");
      requestAnimationFrame(() => form.current?.querySelector("input")?.focus());
      return;
    }
    setLocal("");
    save.mutate({ list: [...origins, origin], done: `${origin} may use the widget now.` });
  };

  return (
    <>
      <p className="small muted">
        Pages of these origins only may run the widget (scheme, host and port;{" "}
        <code>https://*.example.com</code> allows every subdomain). With none, any website may.
      </p>
      {save.isError && !serverError && (
        <Alert title="Couldn't save the origins">{errorMessage(save.error)}</Alert>
      )}
      <p className={notice ? "notice" : "visually-hidden"} role="status">
        {notice}
      </p>
      {origins.length === 0 ? (
        <p className="muted">No origin yet: the widget runs on any website.</p>
      ) : (
        <ul className="origin-list">
          {origins.map((o) => (
            <li key={o}>
              <code>{o}</code>
              <button
                type="button"
                className="button button-small button-danger-ghost"
                aria-label={`Remove ${o}`}
                disabled={save.isPending}
                onClick={() => {
                  setNotice("");
                  save.mutate({
                    list: origins.filter((x) => x !== o),
                    done: `${o} is removed from the allowed origins.`,
                  });
                }}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form ref={form} onSubmit={add} noValidate className="form origin-form">
        <Field
          label="Add an origin"
          name="origin"
          placeholder="https://shop.example.com"
          maxLength={300}
          autoComplete="off"
          spellCheck={false}
          error={error}
          onChange={() => setLocal("")}
        />
        <button type="submit" className="button" disabled={save.isPending}>
          {save.isPending ? "Saving…" : "Add origin"}
        </button>
      </form>
    </>
  );
}
