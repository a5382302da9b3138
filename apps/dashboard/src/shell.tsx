import type { AuthSession } from "@hugo/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense } from "react";
import { Link, Redirect, Route, Switch, useRoute } from "wouter";
import { client } from "./client.ts";
import { errorMessage } from "./errors.ts";
import { Icon, type IconName, Logo } from "./icons.tsx";
import { ComingSoon, NotFound } from "./pages/coming-soon.tsx";
import { InboxPage } from "./pages/inbox.tsx";
import { ROLE_LABELS } from "./roles.ts";
import { endSession, startSession } from "./session.ts";
import { Alert, Spinner } from "./ui.tsx";

// The inbox is where operators land, so it is in the entry (no second round trip before the list);
// every other section is its own chunk: the inbox never downloads the charts or, later, the flow editor.
const AnalyticsPage = lazy(() => import("./pages/analytics.tsx"));
const SettingsPage = lazy(() => import("./pages/settings.tsx"));

const NAV: { path: string; label: string; icon: IconName }[] = [
  { path: "/inbox", label: "Inbox", icon: "inbox" },
  { path: "/workflows", label: "Workflows", icon: "workflows" },
  { path: "/knowledge", label: "Knowledge", icon: "knowledge" },
  { path: "/agent", label: "AI agent", icon: "agent" },
  { path: "/analytics", label: "Analytics", icon: "analytics" },
  { path: "/settings", label: "Settings", icon: "settings" },
];

/** The signed-in app: navigation, the operator and their website, and the open section. */
export function Shell({ session }: { session: AuthSession }) {
  // The inbox fills the window (its columns scroll on their own); other pages scroll as a whole.
  const [inbox] = useRoute("/inbox/*?");
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="sidebar-brand">
          <Logo />
          <span>Hugo</span>
        </div>
        <WebsiteSwitcher session={session} />
        <nav aria-label="Main" className="nav">
          <ul>
            {NAV.map((item) => (
              <NavItem key={item.path} {...item} />
            ))}
          </ul>
        </nav>
        <OperatorCard session={session} />
      </aside>
      <main id="main" className={inbox ? "main main-flush" : "main"} tabIndex={-1}>
        <Suspense fallback={<Spinner label="Loading…" />}>
          <Sections session={session} />
        </Suspense>
      </main>
    </div>
  );
}

function Sections({ session }: { session: AuthSession }) {
  return (
    <Switch>
      <Route path="/">
        <Redirect to="/inbox" replace />
      </Route>
      <Route path="/inbox/:session_id?">
        {(params) => <InboxPage session={session} sessionId={params.session_id} />}
      </Route>
      <Route path="/workflows">
        <ComingSoon
          title="Workflows"
          summary="A visual editor: blocks on a canvas, validation, deploy and versions, a test chat, and the ⋮ → Workflow API snippets."
          meanwhile={
            <>
              Workflows are in the API (<code>/api/workflows</code>) and the command line (
              <code>npx hugo workflow list</code>).
            </>
          }
        />
      </Route>
      <Route path="/knowledge">
        <ComingSoon
          title="Knowledge"
          summary="Your sources (articles, answers, web pages, documents) with their status, re-indexing and a search tester."
          meanwhile={
            <>
              Import sources with <code>npx hugo kb import ./docs</code> or through{" "}
              <code>/api/knowledge/sources</code>.
            </>
          }
        />
      </Route>
      <Route path="/agent">
        <ComingSoon
          title="AI agent"
          summary="The agent's identity, instructions, provider, routing rules and escalation, and a playground with its trace."
          meanwhile={
            <>
              Its settings are at <code>/api/agent/settings</code> (see the{" "}
              <a href="/api/docs">API reference</a>).
            </>
          }
        />
      </Route>
      <Route path="/analytics">
        <AnalyticsPage session={session} />
      </Route>
      <Route path="/settings">
        <Redirect to="/settings/tokens" replace />
      </Route>
      <Route path="/settings/:section">
        {(params) => <SettingsPage session={session} section={params.section} />}
      </Route>
      <Route>
        <NotFound />
      </Route>
    </Switch>
  );
}

function NavItem({ path, label, icon }: { path: string; label: string; icon: IconName }) {
  const [active] = useRoute(`${path}/*?`);
  return (
    <li>
      <Link
        href={path}
        className={active ? "nav-link active" : "nav-link"}
        aria-current={active ? "page" : undefined}
      >
        <Icon name={icon} />
        <span>{label}</span>
      </Link>
    </li>
  );
}

function WebsiteSwitcher({ session }: { session: AuthSession }) {
  const queryClient = useQueryClient();
  const current = session.websites.find((w) => w.id === session.website_id);
  const switchTo = useMutation({
    mutationFn: (websiteId: string) => client.auth.switchWebsite({ website_id: websiteId }),
    onSuccess: (next) => startSession(queryClient, next),
  });
  if (session.websites.length < 2)
    return (
      <div className="website">
        <span className="website-label">Website</span>
        <span className="website-name">{current?.name ?? "Your website"}</span>
      </div>
    );
  return (
    <div className="website">
      <label className="website-label" htmlFor="website-switcher">
        Website
      </label>
      <select
        id="website-switcher"
        className="select"
        value={session.website_id}
        disabled={switchTo.isPending}
        onChange={(event) => switchTo.mutate(event.currentTarget.value)}
      >
        {session.websites.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
      </select>
      {switchTo.isError && <Alert>{errorMessage(switchTo.error)}</Alert>}
    </div>
  );
}

function OperatorCard({ session }: { session: AuthSession }) {
  const queryClient = useQueryClient();
  const signOut = useMutation({
    mutationFn: () => client.auth.logout(),
    // A session that had already ended is signed out too (main.tsx handles that answer).
    onSuccess: () => endSession(queryClient),
  });
  const initials = session.operator.name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join("");
  return (
    <section className="operator" aria-label="Signed in as">
      <span className="avatar" aria-hidden="true">
        {initials || "?"}
      </span>
      <div className="operator-text">
        <span className="operator-name">{session.operator.name}</span>
        <span className="operator-email">{session.operator.email}</span>
        <span className={`role role-${session.role}`}>{ROLE_LABELS[session.role]}</span>
      </div>
      <button
        type="button"
        className="icon-button"
        onClick={() => signOut.mutate()}
        disabled={signOut.isPending}
        aria-label="Sign out"
        title="Sign out"
      >
        <Icon name="signOut" />
      </button>
      {signOut.isError && (
        <div className="operator-error">
          <Alert title="Couldn't sign out">{errorMessage(signOut.error)}</Alert>
        </div>
      )}
    </section>
  );
}
