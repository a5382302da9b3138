import { PermissionError } from "@hugo/client";
import type { AuthSession, Conversation, ConversationUpdate, Message, Operator } from "@hugo/protocol";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { type FormEvent, type KeyboardEvent, useEffect, useId, useMemo, useRef, useState } from "react";
import { Link } from "wouter";
import { client } from "../client.ts";
import { errorMessage } from "../errors.ts";
import { formatDateTime, formatInt, formatRelative } from "../format.ts";
import { Icon } from "../icons.tsx";
import { appendMessage, inboxKeys, type LiveStatus, useInboxLive } from "../live.ts";
import { Alert, Spinner, useTitle } from "../ui.tsx";

type Box = "automated" | "main" | "resolved";
type Filters = {
  inbox: Box;
  q: string;
  unread: boolean;
  assigned: "" | "me" | "none";
  state: "" | "pending" | "unresolved";
};

const BOXES: { id: Box; label: string }[] = [
  { id: "automated", label: "Automated" },
  { id: "main", label: "Main" },
  { id: "resolved", label: "Resolved" },
];
const ROW_HEIGHT = 78;
const PAGE_SIZE = 50;
const MESSAGES_PAGE = 100;

/** The inbox: inboxes and filters over a virtualised list, the open conversation, the visitor's details. */
export function InboxPage({ session, sessionId }: { session: AuthSession; sessionId: string | undefined }) {
  useTitle("Inbox");
  const website = session.website_id;
  const live = useInboxLive(website);
  // Automated opens first: where new conversations start (the AI agent's), and where it hands over from.
  const [filters, setFilters] = useState<Filters>({
    inbox: "automated",
    q: "",
    unread: false,
    assigned: "",
    state: "",
  });
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus({ preventScroll: true }), []);

  return (
    <div className="inbox">
      <section className="inbox-list" aria-labelledby="inbox-title">
        <header className="inbox-list-head">
          <div className="inbox-title-row">
            <h1 id="inbox-title" ref={heading} tabIndex={-1}>
              Inbox
            </h1>
            <LiveBadge status={live} />
          </div>
          <InboxTabs
            website={website}
            value={filters.inbox}
            onChange={(inbox) => setFilters({ ...filters, inbox })}
          />
          <FilterBar filters={filters} onChange={setFilters} />
        </header>
        <ConversationList session={session} filters={filters} openId={sessionId} />
      </section>
      {sessionId ? (
        <ConversationView key={sessionId} session={session} sessionId={sessionId} />
      ) : (
        <section className="inbox-empty" aria-label="Conversation">
          <span className="empty-icon">
            <Icon name="inbox" size={28} />
          </span>
          <p className="muted">Choose a conversation to read it and reply.</p>
        </section>
      )}
    </div>
  );
}

function LiveBadge({ status }: { status: LiveStatus }) {
  const label = status === "live" ? "Live" : status === "connecting" ? "Connecting…" : "Reconnecting…";
  return (
    <span className={`live live-${status}`} role="status" title="Live updates">
      {label}
    </span>
  );
}

function InboxTabs({
  website,
  value,
  onChange,
}: {
  website: string;
  value: Box;
  onChange: (box: Box) => void;
}) {
  const counts = useQuery({
    queryKey: inboxKeys.counts(website),
    queryFn: () => client.conversations.counts(),
  });
  return (
    <fieldset className="inbox-tabs">
      <legend className="visually-hidden">Inboxes</legend>
      {BOXES.map((box) => (
        <button
          key={box.id}
          type="button"
          className={box.id === value ? "inbox-tab active" : "inbox-tab"}
          aria-pressed={box.id === value}
          onClick={() => onChange(box.id)}
        >
          <span>{box.label}</span>
          <span className="inbox-count" data-count={box.id}>
            {counts.data ? formatInt(counts.data[box.id]) : "–"}
          </span>
        </button>
      ))}
    </fieldset>
  );
}

function FilterBar({ filters, onChange }: { filters: Filters; onChange: (f: Filters) => void }) {
  const [q, setQ] = useState(filters.q);
  // Searching as one types, once the typing pauses.
  useEffect(() => {
    const t = setTimeout(() => q.trim() !== filters.q && onChange({ ...filters, q: q.trim() }), 300);
    return () => clearTimeout(t);
  }, [q, filters, onChange]);
  const id = useId();
  return (
    <div className="inbox-filters">
      <label htmlFor={`${id}-q`} className="visually-hidden">
        Search conversations
      </label>
      <input
        id={`${id}-q`}
        type="search"
        className="input input-small"
        placeholder="Search name, email, message…"
        value={q}
        maxLength={200}
        onChange={(e) => setQ(e.currentTarget.value)}
      />
      <div className="inbox-filter-row">
        <label className="visually-hidden" htmlFor={`${id}-assigned`}>
          Assignee
        </label>
        <select
          id={`${id}-assigned`}
          className="select select-small"
          value={filters.assigned}
          onChange={(e) => onChange({ ...filters, assigned: e.currentTarget.value as Filters["assigned"] })}
        >
          <option value="">Anyone</option>
          <option value="me">Assigned to me</option>
          <option value="none">Unassigned</option>
        </select>
        {filters.inbox !== "resolved" && (
          <>
            <label className="visually-hidden" htmlFor={`${id}-state`}>
              State
            </label>
            <select
              id={`${id}-state`}
              className="select select-small"
              value={filters.state}
              onChange={(e) => onChange({ ...filters, state: e.currentTarget.value as Filters["state"] })}
            >
              <option value="">Any state</option>
              <option value="pending">Pending</option>
              <option value="unresolved">Unresolved</option>
            </select>
          </>
        )}
        <label className="toggle">
          <input
            type="checkbox"
            checked={filters.unread}
            onChange={(e) => onChange({ ...filters, unread: e.currentTarget.checked })}
          />
          <span>Unread</span>
        </label>
      </div>
    </div>
  );
}

/** Every operator of the website by id, or null when this role may not list them (agents). */
function useOperators(website: string) {
  return useQuery({
    queryKey: ["operators", website],
    queryFn: async (): Promise<Operator[] | null> => {
      try {
        return await client.operators.list();
      } catch (error) {
        if (error instanceof PermissionError) return null;
        throw error;
      }
    },
    staleTime: 5 * 60_000,
  });
}

function assigneeName(
  conversation: Conversation,
  session: AuthSession,
  operators: Operator[] | null | undefined,
) {
  const id = conversation.assigned?.user_id;
  if (!id) return null;
  if (id === session.operator.id) return "You";
  return operators?.find((o) => o.id === id)?.name ?? "Another operator";
}

const visitorName = (c: Conversation) => c.meta.nickname || c.meta.email || c.meta.phone || "Visitor";

function ConversationList({
  session,
  filters,
  openId,
}: {
  session: AuthSession;
  filters: Filters;
  openId?: string;
}) {
  const website = session.website_id;
  const operators = useOperators(website);
  const query = {
    inbox: filters.inbox,
    ...(filters.q ? { q: filters.q } : {}),
    ...(filters.unread ? { unread: "true" as const } : {}),
    ...(filters.assigned === "me" ? { assigned: session.operator.id } : {}),
    ...(filters.assigned === "none" ? { assigned: "none" as const } : {}),
    ...(filters.state && filters.inbox !== "resolved" ? { state: filters.state } : {}),
  };
  const pages = useInfiniteQuery({
    queryKey: inboxKeys.list(website, query),
    queryFn: ({ pageParam }) =>
      client.conversations.list({ ...query, limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) }),
    initialPageParam: "",
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.conversations) ?? [], [pages.data]);
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    getItemKey: (i) => rows[i]!.session_id,
  });
  const items = virtual.getVirtualItems();
  const lastShown = items.at(-1)?.index ?? 0;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = pages;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastShown >= rows.length - 10) void fetchNextPage();
  }, [lastShown, rows.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  if (pages.isPending) return <Spinner label="Loading conversations…" />;
  if (pages.isError)
    return (
      <div className="inbox-pad">
        <Alert title="Couldn't load the conversations">{errorMessage(pages.error)}</Alert>
      </div>
    );
  if (rows.length === 0)
    return (
      <p className="inbox-pad muted">
        {filters.q || filters.unread || filters.assigned || filters.state
          ? "No conversation matches these filters."
          : "No conversation in this inbox."}
      </p>
    );
  return (
    <div ref={scroller} className="conversation-scroll">
      <ul
        className="conversation-rows"
        aria-label="Conversations"
        style={{ height: virtual.getTotalSize() }}
        aria-busy={isFetchingNextPage}
      >
        {items.map((item) => {
          const c = rows[item.index]!;
          const assignee = assigneeName(c, session, operators.data);
          const unread = c.unread.operator > 0;
          return (
            <li
              key={item.key}
              className="conversation-row-slot"
              style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
            >
              <Link
                href={`/inbox/${c.session_id}`}
                className={`conversation-row${c.session_id === openId ? " active" : ""}${unread ? " unread" : ""}`}
                aria-current={c.session_id === openId ? "true" : undefined}
                data-session={c.session_id}
              >
                <Avatar name={visitorName(c)} />
                <span className="conversation-main">
                  <span className="conversation-top">
                    <span className="conversation-name">{visitorName(c)}</span>
                    <time
                      dateTime={new Date(c.updated_at).toISOString()}
                      title={formatDateTime(c.updated_at)}
                    >
                      {formatRelative(c.updated_at)}
                    </time>
                  </span>
                  <span className="conversation-excerpt">{c.last_message || "No message yet"}</span>
                  <span className="conversation-bottom">
                    {assignee ? (
                      <span className="assignee">{assignee}</span>
                    ) : (
                      <span className="muted">Unassigned</span>
                    )}
                    {c.state === "pending" && <span className="tag tag-warning">Pending</span>}
                    {unread && (
                      <span className="unread-dot" title={`${c.unread.operator} unread`}>
                        <span className="visually-hidden">{c.unread.operator} unread</span>
                      </span>
                    )}
                  </span>
                </span>
              </Link>
            </li>
          );
        })}
      </ul>
      {isFetchingNextPage && <Spinner label="Loading more…" />}
    </div>
  );
}

function Avatar({ name }: { name: string }) {
  const initials = name
    .split(/[\s@.]+/)
    .filter((w) => /^\p{L}/u.test(w))
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join("");
  return (
    <span className="avatar avatar-visitor" aria-hidden="true">
      {initials || "?"}
    </span>
  );
}

function ConversationView({ session, sessionId }: { session: AuthSession; sessionId: string }) {
  const website = session.website_id;
  const conversation = useQuery({
    queryKey: inboxKeys.conversation(website, sessionId),
    queryFn: () => client.conversations.get(sessionId),
  });
  const messages = useQuery({
    queryKey: inboxKeys.messages(website, sessionId),
    queryFn: () => client.conversations.listMessages(sessionId, { limit: MESSAGES_PAGE }),
  });

  if (conversation.isPending) return <Spinner label="Loading the conversation…" />;
  if (conversation.isError)
    return (
      <section className="inbox-empty" aria-label="Conversation">
        <Alert title="Couldn't open the conversation">{errorMessage(conversation.error)}</Alert>
        <Link href="/inbox">Back to the inbox</Link>
      </section>
    );
  const c = conversation.data;
  return (
    <>
      <section className="conversation" aria-label={`Conversation with ${visitorName(c)}`}>
        <ConversationHeader session={session} conversation={c} />
        <MessageList
          messages={messages.data}
          error={messages.error}
          website={website}
          sessionId={sessionId}
        />
        <Composer session={session} sessionId={sessionId} />
      </section>
      <VisitorPanel conversation={c} website={website} />
    </>
  );
}

function ConversationHeader({
  session,
  conversation: c,
}: {
  session: AuthSession;
  conversation: Conversation;
}) {
  const queryClient = useQueryClient();
  const website = session.website_id;
  const operators = useOperators(website);
  const update = useMutation({
    mutationFn: (patch: ConversationUpdate) => client.conversations.update(c.session_id, patch),
    onSuccess: (next) => {
      queryClient.setQueryData(inboxKeys.conversation(website, c.session_id), next);
      void queryClient.invalidateQueries({ queryKey: ["inbox", website, "list"] });
      void queryClient.invalidateQueries({ queryKey: inboxKeys.counts(website) });
    },
  });
  const resolved = c.state === "resolved";
  const me = session.operator.id;
  const assigned = c.assigned?.user_id ?? "";
  const choices: { id: string; name: string }[] = operators.data
    ? operators.data.map((o) => ({ id: o.id, name: o.id === me ? `${o.name} (you)` : o.name }))
    : [{ id: me, name: `${session.operator.name} (you)` }];
  if (assigned && !choices.some((o) => o.id === assigned))
    choices.push({ id: assigned, name: "Another operator" });

  return (
    <header className="conversation-head">
      <div className="conversation-who">
        <h2>{visitorName(c)}</h2>
        <span className="muted small">
          {c.meta.email || "No email"} · <StateLabel conversation={c} />
        </span>
      </div>
      <div className="conversation-actions">
        <label className="visually-hidden" htmlFor="assignee">
          Assign to
        </label>
        <select
          id="assignee"
          className="select select-small"
          value={assigned}
          disabled={update.isPending}
          onChange={(e) => update.mutate({ assigned_user_id: e.currentTarget.value || null })}
        >
          <option value="">Unassigned</option>
          {choices.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
            </option>
          ))}
        </select>
        {!resolved && (
          <button
            type="button"
            className="button button-small"
            disabled={update.isPending}
            onClick={() => update.mutate({ inbox_id: c.inbox_id === "automated" ? null : "automated" })}
          >
            {c.inbox_id === "automated" ? "Move to Main" : "Move to Automated"}
          </button>
        )}
        <button
          type="button"
          className={resolved ? "button button-small" : "button button-small button-success"}
          disabled={update.isPending}
          onClick={() => update.mutate({ state: resolved ? "unresolved" : "resolved" })}
        >
          {resolved ? "Reopen" : "Resolve"}
        </button>
      </div>
      {update.isError && (
        <div className="conversation-head-error">
          <Alert>{errorMessage(update.error)}</Alert>
        </div>
      )}
    </header>
  );
}

function StateLabel({ conversation: c }: { conversation: Conversation }) {
  if (c.state === "resolved") return <span data-state="resolved">Resolved</span>;
  return (
    <span data-state={c.state}>
      {c.state === "pending" ? "Pending" : "Open"} in {c.inbox_id === "automated" ? "Automated" : "Main"}
    </span>
  );
}

function MessageList(props: {
  messages: Message[] | undefined;
  error: unknown;
  website: string;
  sessionId: string;
}) {
  const { messages, error } = props;
  const queryClient = useQueryClient();
  const end = useRef<HTMLDivElement>(null);
  const count = messages?.length ?? 0;
  const newest = messages?.at(-1)?.fingerprint;
  // A new message scrolls into view (the list starts at the bottom, like any chat); earlier ones do not.
  useEffect(() => {
    if (newest !== undefined) end.current?.scrollIntoView({ block: "end" });
  }, [newest]);
  // Older messages, a page at a time, put in front of the cached ones.
  const [reachedStart, setReachedStart] = useState<boolean | undefined>(undefined);
  const earlier = useMutation({
    mutationFn: () =>
      client.conversations.listMessages(props.sessionId, {
        before: messages![0]!.timestamp,
        limit: MESSAGES_PAGE,
      }),
    onSuccess: (older) => {
      setReachedStart(older.length < MESSAGES_PAGE);
      queryClient.setQueryData<Message[]>(inboxKeys.messages(props.website, props.sessionId), (old) => {
        const known = new Set(old?.map((m) => m.fingerprint));
        return [...older.filter((m) => !known.has(m.fingerprint)), ...(old ?? [])];
      });
    },
  });
  if (error)
    return (
      <div className="messages">
        <Alert title="Couldn't load the messages">{errorMessage(error)}</Alert>
      </div>
    );
  if (!messages) return <Spinner label="Loading messages…" />;
  const more = reachedStart === undefined ? count >= MESSAGES_PAGE : !reachedStart;
  return (
    <div className="messages" role="log" aria-label="Messages" aria-live="polite">
      {more && (
        <button
          type="button"
          className="button button-small messages-earlier"
          disabled={earlier.isPending}
          onClick={() => earlier.mutate()}
        >
          {earlier.isPending ? "Loading…" : "Show earlier messages"}
        </button>
      )}
      {earlier.isError && <Alert>{errorMessage(earlier.error)}</Alert>}
      {messages.length === 0 && <p className="muted messages-empty">No message yet.</p>}
      {messages.map((m) => (
        <MessageItem key={`${m.fingerprint}-${m.seq}`} message={m} />
      ))}
      <div ref={end} />
    </div>
  );
}

function author(m: Message): { kind: "visitor" | "operator" | "bot" | "note" | "event"; name: string } {
  if (m.type === "event") return { kind: "event", name: "" };
  if (m.from === "user") return { kind: "visitor", name: m.user.nickname || "Visitor" };
  const name = m.user.nickname || (m.automated ? "Bot" : "Operator");
  if (m.type === "note") return { kind: "note", name };
  return { kind: m.automated ? "bot" : "operator", name };
}

function MessageItem({ message: m }: { message: Message }) {
  const who = author(m);
  if (who.kind === "event")
    return (
      <div className="message-event" data-type="event">
        <MessageBody message={m} /> · {formatDateTime(m.timestamp)}
      </div>
    );
  const badge =
    who.kind === "note"
      ? "Private note"
      : who.kind === "bot"
        ? m.user.user_id === "hugo:agent"
          ? "AI agent"
          : "Bot"
        : null;
  return (
    <div className={`message message-${who.kind}`} data-from={m.from} data-type={m.type}>
      <div className="message-meta">
        <span className="message-author">{who.name}</span>
        {badge && <span className="tag">{badge}</span>}
        <time dateTime={new Date(m.timestamp).toISOString()}>{formatDateTime(m.timestamp)}</time>
      </div>
      <div className="message-bubble">
        <MessageBody message={m} />
      </div>
    </div>
  );
}

const str = (v: unknown) => (typeof v === "string" ? v : "");
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** Only http(s) links are made clickable; anything else stays text. */
const safeUrl = (v: unknown) => (typeof v === "string" && /^https?:\/\//i.test(v) ? v : undefined);

/** Every message type as text (React escapes it): links only for http(s) URLs, never HTML. */
function MessageBody({ message: m }: { message: Message }) {
  const c = obj(m.content);
  switch (m.type) {
    case "text":
    case "note":
      return <p className="message-text">{str(m.content)}</p>;
    case "file":
    case "animation":
    case "audio": {
      const url = safeUrl(c.url);
      const label =
        str(c.name) ||
        `${m.type === "audio" ? "Audio" : m.type === "animation" ? "Animation" : "File"} (${str(c.type)})`;
      return (
        <p className="message-text">
          📎{" "}
          {url ? (
            <a href={url} target="_blank" rel="noopener noreferrer">
              {label}
            </a>
          ) : (
            label
          )}
        </p>
      );
    }
    case "picker":
      return (
        <div>
          <p className="message-text">{str(c.text)}</p>
          <ul className="message-choices">
            {arr(c.choices).map((choice, i) => {
              const ch = obj(choice);
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: values may repeat in stored content; the list never reorders.
                <li key={`${str(ch.value)}-${i}`} className={ch.selected ? "selected" : undefined}>
                  {str(ch.label)}
                  {ch.selected === true && " ✓"}
                </li>
              );
            })}
          </ul>
        </div>
      );
    case "field":
      return (
        <div>
          <p className="message-text">{str(c.text)}</p>
          <p className="message-field">
            {str(c.value) || <span className="muted">{str(c.explain) || "Not answered yet"}</span>}
          </p>
        </div>
      );
    case "carousel":
      return (
        <div>
          {str(c.text) && <p className="message-text">{str(c.text)}</p>}
          <ul className="message-choices">
            {arr(c.targets).map((target, i) => {
              const t = obj(target);
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: cards have no id; the list never reorders.
                <li key={i}>
                  <strong>{str(t.title)}</strong>
                  {str(t.description) && <span className="muted"> — {str(t.description)}</span>}
                </li>
              );
            })}
          </ul>
        </div>
      );
    case "event":
      return <>{str(c.text) || str(c.namespace)}</>;
    default:
      return <p className="message-text">{JSON.stringify(m.content)}</p>;
  }
}

function Composer({ session, sessionId }: { session: AuthSession; sessionId: string }) {
  const queryClient = useQueryClient();
  const website = session.website_id;
  const [mode, setMode] = useState<"text" | "note">("text");
  const [draft, setDraft] = useState("");
  const id = useId();
  const send = useMutation({
    mutationFn: (content: string) => client.conversations.reply(sessionId, { type: mode, content }),
    onSuccess: (message) => {
      appendMessage(queryClient, website, message);
      setDraft("");
      void queryClient.invalidateQueries({ queryKey: ["inbox", website, "list"] });
    },
  });
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (draft.trim() && !send.isPending) send.mutate(draft.trim());
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };
  return (
    <form className={`composer composer-${mode}`} onSubmit={submit}>
      <fieldset className="composer-modes">
        <legend className="visually-hidden">Message type</legend>
        <button
          type="button"
          className={mode === "text" ? "active" : ""}
          aria-pressed={mode === "text"}
          onClick={() => setMode("text")}
        >
          Reply
        </button>
        <button
          type="button"
          className={mode === "note" ? "active" : ""}
          aria-pressed={mode === "note"}
          onClick={() => setMode("note")}
        >
          Note
        </button>
      </fieldset>
      <label htmlFor={`${id}-draft`} className="visually-hidden">
        {mode === "text" ? "Reply to the visitor" : "Private note"}
      </label>
      <textarea
        id={`${id}-draft`}
        className="composer-input"
        rows={3}
        maxLength={10_000}
        value={draft}
        placeholder={
          mode === "text"
            ? "Reply to the visitor… (Enter sends, Shift+Enter for a new line)"
            : "A private note for your team — the visitor never sees it"
        }
        onChange={(e) => setDraft(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        aria-describedby={send.isError ? `${id}-error` : undefined}
      />
      <div className="composer-foot">
        <span className="muted small">
          {mode === "text" ? "Replying takes over from the AI agent." : "Only operators see notes."}
        </span>
        <button
          type="submit"
          className="button button-primary button-small"
          disabled={!draft.trim() || send.isPending}
        >
          {mode === "text" ? "Send reply" : "Add note"}
        </button>
      </div>
      {send.isError && (
        <p id={`${id}-error`} className="field-error" role="alert">
          {errorMessage(send.error)}
        </p>
      )}
    </form>
  );
}

function VisitorPanel({ conversation: c, website }: { conversation: Conversation; website: string }) {
  const m = c.meta;
  const data = Object.entries(m.data);
  return (
    <aside className="visitor-panel" aria-label="Visitor">
      <h2 className="panel-title">Visitor</h2>
      <dl className="pairs pairs-panel">
        <dt>Name</dt>
        <dd>{m.nickname || "—"}</dd>
        <dt>Email</dt>
        <dd>{m.email || "—"}</dd>
        <dt>Phone</dt>
        <dd>{m.phone || "—"}</dd>
        <dt>Language</dt>
        <dd>{m.locale || "—"}</dd>
        <dt>Started</dt>
        <dd>{formatDateTime(c.created_at)}</dd>
      </dl>
      <h3 className="panel-subtitle">Segments</h3>
      {m.segments.length ? (
        <ul className="segments">
          {m.segments.map((s) => (
            <li key={s} className="tag">
              {s}
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">None</p>
      )}
      <h3 className="panel-subtitle">Data</h3>
      {data.length ? (
        <dl className="pairs pairs-panel">
          {data.map(([k, v]) => (
            <div key={k} className="pair">
              <dt>{k}</dt>
              <dd>{String(v)}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p className="muted small">None</p>
      )}
      <RunsAndTurns sessionId={c.session_id} website={website} />
    </aside>
  );
}

/** A query that answers null instead of failing when this role may not read it (an agent and workflows). */
const orNull =
  <T,>(load: () => Promise<T>) =>
  async (): Promise<T | null> => {
    try {
      return await load();
    } catch (error) {
      if (error instanceof PermissionError) return null;
      throw error;
    }
  };

const TONES: Record<string, string> = {
  completed: "success",
  answered: "success",
  running: "primary",
  waiting: "primary",
  queued: "primary",
  escalated: "warning",
  routed: "warning",
  failed: "danger",
};

/** The conversation's workflow runs and the AI agent's turns, each with its guardrail trace. */
function RunsAndTurns({ sessionId, website }: { sessionId: string; website: string }) {
  const runs = useQuery({
    queryKey: ["inbox", website, "runs", sessionId],
    queryFn: orNull(() => client.conversations.listRuns(sessionId, { limit: 10 })),
  });
  const workflows = useQuery({
    queryKey: ["workflows", website],
    queryFn: orNull(() => client.workflows.list()),
    staleTime: 5 * 60_000,
  });
  const turns = useQuery({
    queryKey: ["inbox", website, "turns", sessionId],
    queryFn: orNull(() => client.agent.listTurns({ session_id: sessionId, limit: 10 })),
  });
  const workflowName = (id: string) => workflows.data?.find((w) => w.workflow_id === id)?.name ?? "Workflow";
  return (
    <>
      {runs.data !== null && (
        <>
          <h3 className="panel-subtitle">Workflow runs</h3>
          {runs.isError ? (
            <p className="field-error">{errorMessage(runs.error)}</p>
          ) : !runs.data ? (
            <p className="muted small">Loading…</p>
          ) : runs.data.length === 0 ? (
            <p className="muted small">None</p>
          ) : (
            <ul className="panel-list">
              {runs.data.map((r) => (
                <li key={r.run_id} data-run={r.run_id}>
                  <span className="panel-list-top">
                    <span className="panel-list-name">{workflowName(r.workflow_id)}</span>
                    <span className={`tag tag-${TONES[r.status] ?? "muted"}`}>{r.status}</span>
                  </span>
                  <span className="muted small">
                    {formatRelative(r.started_at)} · {r.steps} {r.steps === 1 ? "step" : "steps"}
                    {r.end_reason ? ` · ${r.end_reason}` : ""}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      {turns.data !== null && (
        <>
          <h3 className="panel-subtitle">AI agent</h3>
          {turns.isError ? (
            <p className="field-error">{errorMessage(turns.error)}</p>
          ) : !turns.data ? (
            <p className="muted small">Loading…</p>
          ) : turns.data.length === 0 ? (
            <p className="muted small">No turn yet</p>
          ) : (
            <ul className="panel-list">
              {turns.data.map((t) => (
                <li key={t.turn_id} data-turn={t.turn_id}>
                  <span className="panel-list-top">
                    <span className="panel-list-name">{formatRelative(t.created_at)}</span>
                    <span className={`tag tag-${TONES[t.status] ?? "muted"}`}>{t.status}</span>
                  </span>
                  {t.error && <span className="field-error">{t.error}</span>}
                  {t.trace && (
                    <details className="trace">
                      <summary>Trace</summary>
                      <dl className="pairs pairs-panel">
                        <dt>Decision</dt>
                        <dd>
                          {t.trace.decision}
                          {t.trace.rule ? ` (${t.trace.rule})` : ""}
                        </dd>
                        <dt>Reason</dt>
                        <dd>{t.trace.reason}</dd>
                        {t.trace.confidence !== null && (
                          <>
                            <dt>Confidence</dt>
                            <dd>{Math.round(t.trace.confidence * 100)}%</dd>
                          </>
                        )}
                        <dt>Queries</dt>
                        <dd>{t.trace.queries.join(" · ") || "—"}</dd>
                        <dt>Passages</dt>
                        <dd>
                          {t.trace.passages.length
                            ? t.trace.passages.map((p) => `${p.title} (${p.score.toFixed(2)})`).join(" · ")
                            : "—"}
                        </dd>
                        {t.trace.tools.length > 0 && (
                          <>
                            <dt>Tools</dt>
                            <dd>{t.trace.tools.map((x) => x.name).join(", ")}</dd>
                          </>
                        )}
                        <dt>Model</dt>
                        <dd>
                          {t.trace.provider}
                          {t.trace.model ? ` · ${t.trace.model}` : ""} · {Math.round(t.trace.latency_ms)} ms
                        </dd>
                      </dl>
                    </details>
                  )}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </>
  );
}
