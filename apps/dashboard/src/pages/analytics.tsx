import type { Analytics, AuthSession } from "@hugo/protocol";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { BarChart } from "../charts.tsx";
import { client } from "../client.ts";
import { errorMessage } from "../errors.ts";
import { formatDateTime, formatDayUtc, formatInt, formatPercent, formatRelative } from "../format.ts";
import { Alert, PageHeader, Spinner } from "../ui.tsx";

const DAY_MS = 86_400_000;
const PERIODS = [7, 30, 90] as const;
type Period = (typeof PERIODS)[number];
type Interval = "day" | "week";

/** The window's start as the server computes its default: N days back, from a UTC midnight. */
const windowStart = (days: number, now = Date.now()) => Math.floor((now - days * DAY_MS) / DAY_MS) * DAY_MS;

export default function AnalyticsPage({ session }: { session: AuthSession }) {
  const [period, setPeriod] = useState<Period>(30);
  const [interval, setGrouping] = useState<Interval>("day");
  const analytics = useQuery({
    queryKey: ["analytics", session.website_id, period, interval],
    // 30 days is the server's default window: the page then shows exactly GET /api/analytics.
    queryFn: () =>
      client.analytics.get(period === 30 ? { interval } : { interval, from: windowStart(period) }),
    placeholderData: keepPreviousData,
  });

  return (
    <>
      <PageHeader
        title="Analytics"
        description="Conversations, what the AI agent handled on its own, and how your workflows run."
        actions={
          <div className="toolbar">
            <label className="inline-label">
              <span>Period</span>
              <select
                className="select"
                value={period}
                onChange={(e) => setPeriod(Number(e.currentTarget.value) as Period)}
              >
                {PERIODS.map((p) => (
                  <option key={p} value={p}>
                    Last {p} days
                  </option>
                ))}
              </select>
            </label>
            <label className="inline-label">
              <span>Group by</span>
              <select
                className="select"
                value={interval}
                onChange={(e) => setGrouping(e.currentTarget.value as Interval)}
              >
                <option value="day">Day</option>
                <option value="week">Week</option>
              </select>
            </label>
          </div>
        }
      />
      {analytics.isPending ? (
        <Spinner label="Loading analytics…" />
      ) : analytics.isError ? (
        <Alert title="Couldn't load analytics">{errorMessage(analytics.error)}</Alert>
      ) : (
        <Overview data={analytics.data} updating={analytics.isFetching} />
      )}
    </>
  );
}

function Overview({ data, updating }: { data: Analytics; updating: boolean }) {
  const t = data.totals;
  const completion = t.runs ? t.runs_completed / t.runs : null;
  const buckets = data.series.map((b) => ({
    start: b.start,
    values: { conversations: b.conversations, answered: b.answered, escalated: b.escalated },
  }));
  return (
    <div className="stack" aria-busy={updating}>
      <p className="muted small">
        {formatDayUtc(data.from)} – {formatDayUtc(data.to - 1)} (UTC)
      </p>
      <dl className="stats">
        <Stat id="conversations" label="Conversations" value={formatInt(t.conversations)} note="started" />
        <Stat id="answered" label="Answered" value={formatInt(t.answered)} note="by the AI agent" />
        <Stat
          id="escalated"
          label="Escalated"
          value={formatInt(t.escalated)}
          note={t.routed ? `to a human; ${formatInt(t.routed)} routed` : "to a human"}
        />
        <Stat
          id="handled_rate"
          label="Handled by AI"
          value={formatPercent(t.handled_rate)}
          note={t.handled_rate === null ? "no agent turns yet" : "of the agent's turns"}
        />
        <Stat id="runs" label="Workflow runs" value={formatInt(t.runs)} note="started" />
        <Stat
          id="completion"
          label="Run completion"
          value={formatPercent(completion)}
          note={`${formatInt(t.runs_completed)} of ${formatInt(t.runs)} completed`}
        />
      </dl>
      <div className="grid-2">
        <section className="card" aria-label="Conversations over time">
          <BarChart
            title="Conversations over time"
            unit="conversations"
            interval={data.interval}
            buckets={buckets}
            series={[{ key: "conversations", label: "Conversations", className: "fill-primary" }]}
          />
        </section>
        <section className="card" aria-label="Answered versus escalated">
          <BarChart
            title="Answered by the agent vs escalated"
            unit="agent turns"
            interval={data.interval}
            buckets={buckets}
            series={[
              { key: "answered", label: "Answered", className: "fill-success" },
              { key: "escalated", label: "Escalated", className: "fill-warning" },
            ]}
          />
        </section>
      </div>
      <div className="grid-2 grid-wide-left">
        <section className="card" aria-labelledby="workflows-title">
          <h2 id="workflows-title" className="card-title">
            Workflows
          </h2>
          {data.workflows.length === 0 ? (
            <p className="muted">No workflow has run in this period.</p>
          ) : (
            <div className="table-scroll">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Workflow</th>
                    <th scope="col" className="num">
                      Runs
                    </th>
                    <th scope="col" className="num">
                      Completed
                    </th>
                    <th scope="col" className="num">
                      Failed
                    </th>
                    <th scope="col" className="num">
                      Active
                    </th>
                    <th scope="col">Completion</th>
                  </tr>
                </thead>
                <tbody>
                  {data.workflows.map((w) => (
                    <tr key={w.workflow_id} data-workflow={w.workflow_id}>
                      <th scope="row">{w.name}</th>
                      <td className="num">{formatInt(w.runs)}</td>
                      <td className="num">{formatInt(w.completed)}</td>
                      <td className="num">{formatInt(w.failed)}</td>
                      <td className="num">{formatInt(w.active)}</td>
                      <td>
                        <span className="meter-cell">
                          <span className="meter" aria-hidden="true">
                            <span style={{ width: `${Math.round((w.completion_rate ?? 0) * 100)}%` }} />
                          </span>
                          <span data-completion>{formatPercent(w.completion_rate)}</span>
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section className="card" aria-labelledby="unanswered-title">
          <h2 id="unanswered-title" className="card-title">
            Top unanswered questions
          </h2>
          <p className="muted small">What visitors asked when the agent handed over to a person.</p>
          {data.unanswered.length === 0 ? (
            <p className="muted">No question went unanswered in this period.</p>
          ) : (
            <ol className="questions">
              {data.unanswered.map((q) => (
                <li key={`${q.question}:${q.session_id}`}>
                  <span className="question">{q.question}</span>
                  <span className="question-meta">
                    <span className="count-pill" title={`Asked ${q.count} times`}>
                      {formatInt(q.count)}×
                    </span>
                    <time dateTime={new Date(q.last_at).toISOString()} title={formatDateTime(q.last_at)}>
                      {formatRelative(q.last_at)}
                    </time>
                  </span>
                </li>
              ))}
            </ol>
          )}
        </section>
      </div>
    </div>
  );
}

function Stat(props: { id: string; label: string; value: string; note: string }) {
  return (
    <div className="stat" data-stat={props.id}>
      <dt>{props.label}</dt>
      <dd>
        <span className="stat-value">{props.value}</span>
        <span className="stat-note">{props.note}</span>
      </dd>
    </div>
  );
}
