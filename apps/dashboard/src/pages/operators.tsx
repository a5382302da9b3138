import { PermissionError } from "@hugo/client";
import type { AuthSession, Operator, OperatorCreate, OperatorRole } from "@hugo/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useId, useState } from "react";
import { client } from "../client.ts";
import { errorMessage } from "../errors.ts";
import { formatDateTime, formatRelative } from "../format.ts";
import { ROLE_LABELS } from "../roles.ts";
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

const ROLES: { role: OperatorRole; note: string }[] = [
  { role: "agent", note: "works conversations" },
  { role: "admin", note: "also manages workflows, knowledge, tokens and operators" },
  { role: "owner", note: "everything; a website keeps at least one" },
];

/** Settings → Operators: the team with their roles; invite, change a role, remove after a confirmation. */
export function OperatorsSection({ session }: { session: AuthSession }) {
  const queryClient = useQueryClient();
  const key = ["operators", session.website_id];
  const operators = useQuery({ queryKey: key, queryFn: () => client.operators.list() });
  const [inviting, setInviting] = useState(false);
  const [removing, setRemoving] = useState<Operator | null>(null);
  const notice = useNotice();
  const formId = useId();

  const changeRole = useMutation({
    mutationFn: (v: { operator: Operator; role: OperatorRole }) =>
      client.operators.update(v.operator.id, { role: v.role }),
    onSuccess: async (updated) => {
      await queryClient.invalidateQueries({ queryKey: key });
      notice.say(`${updated.name} is ${ROLE_LABELS[updated.role].toLowerCase()} now.`, false);
    },
  });
  const remove = useMutation({
    mutationFn: (operator: Operator) => client.operators.delete(operator.id),
    onSuccess: async (_data, operator) => {
      await queryClient.invalidateQueries({ queryKey: key });
      setRemoving(null);
      notice.say(`${operator.name} is removed: they can no longer sign in to this website.`);
    },
  });

  if (operators.error instanceof PermissionError)
    return (
      <>
        <PageHeader title="Operators" />
        <NoAccess session={session} error={operators.error} what="operators">
          Agents work conversations; owners and admins invite operators and choose their roles.
        </NoAccess>
      </>
    );

  return (
    <>
      <PageHeader
        title="Operators"
        description="The people who sign in to this website's dashboard, and what each may do."
        actions={
          !inviting && (
            <button
              type="button"
              className="button button-primary"
              aria-expanded={false}
              aria-controls={formId}
              onClick={() => {
                notice.clear();
                setInviting(true);
              }}
            >
              Invite operator
            </button>
          )
        }
      />
      {notice.element}
      {inviting && (
        <InviteOperator
          id={formId}
          onCancel={() => setInviting(false)}
          onCreated={(operator) => {
            setInviting(false);
            void queryClient.invalidateQueries({ queryKey: key });
            notice.say(`${operator.name} can sign in now with ${operator.email} and the password you chose.`);
          }}
        />
      )}
      {changeRole.isError && (
        <Alert title={`Couldn't change ${changeRole.variables.operator.name}'s role`}>
          {errorMessage(changeRole.error)}
        </Alert>
      )}
      <section className="card card-flush" aria-labelledby="operators-title">
        <h2 id="operators-title" className="card-title card-pad">
          Operators of this website
        </h2>
        {operators.isPending ? (
          <Spinner label="Loading operators…" />
        ) : operators.isError ? (
          <div className="card-pad">
            <Alert title="Couldn't load the operators">{errorMessage(operators.error)}</Alert>
          </div>
        ) : (
          <div className="table-scroll">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Last sign-in</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {operators.data.map((o) => {
                  const pending = changeRole.isPending && changeRole.variables.operator.id === o.id;
                  return (
                    <tr key={o.id} data-operator={o.id}>
                      <th scope="row">
                        {o.name}
                        {o.id === session.operator.id && <span className="muted"> (you)</span>}
                        <span className="cell-sub">{o.email}</span>
                      </th>
                      <td>
                        <select
                          className="select select-small"
                          aria-label={`Role of ${o.name}`}
                          value={pending ? changeRole.variables.role : o.role}
                          disabled={pending}
                          onChange={(e) => {
                            notice.clear();
                            changeRole.mutate({ operator: o, role: e.currentTarget.value as OperatorRole });
                          }}
                        >
                          {ROLES.map((r) => (
                            <option key={r.role} value={r.role}>
                              {ROLE_LABELS[r.role]}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td>
                        {o.last_login_at === null ? (
                          <span className="muted">Never</span>
                        ) : (
                          <time title={formatDateTime(o.last_login_at)}>
                            {formatRelative(o.last_login_at)}
                          </time>
                        )}
                      </td>
                      <td className="actions">
                        <button
                          type="button"
                          className="button button-small button-danger-ghost"
                          aria-label={`Remove ${o.name}`}
                          onClick={() => {
                            notice.clear();
                            setRemoving(o);
                          }}
                        >
                          Remove
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {removing && (
        <ConfirmDialog
          title={`Remove ${removing.name}?`}
          confirm="Remove operator"
          confirming="Removing…"
          pending={remove.isPending}
          error={remove.isError ? errorMessage(remove.error) : undefined}
          onCancel={() => {
            remove.reset();
            setRemoving(null);
          }}
          onConfirm={() => remove.mutate(removing)}
        >
          {removing.email} can no longer sign in to this website. Their messages and notes stay in the
          conversations.
        </ConfirmDialog>
      )}
    </>
  );
}

function InviteOperator(props: {
  id: string;
  onCancel: () => void;
  onCreated: (operator: Operator) => void;
}) {
  const create = useMutation({
    mutationFn: (body: OperatorCreate) => client.operators.create(body),
    onSuccess: props.onCreated,
    onError: () => check.focusInvalid(),
  });
  const check = useFormCheck(create.error);
  const form = check.form;
  useEffect(() => form.current?.querySelector("input")?.focus(), [form]);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const f = event.currentTarget;
    const name = formText(f, "name").trim();
    const email = formText(f, "email").trim();
    const password = formText(f, "password");
    const role = (formText(f, "role") || "agent") as OperatorRole;
    const ok = check.check({
      ...(name ? {} : { name: "Enter their name." }),
      ...(email ? {} : { email: "Enter their email address." }),
      ...(password ? {} : { password: "Choose a password for their first sign-in." }),
    });
    if (ok) create.mutate({ name, email, role, password });
  };

  const { errors } = check;
  return (
    <section id={props.id} className="card" aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`} className="card-title">
        Invite an operator
      </h2>
      {create.isError && !check.refusedHere && (
        <Alert title="Couldn't invite the operator">{errorMessage(create.error)}</Alert>
      )}
      <form ref={form} onSubmit={submit} noValidate className="form">
        <div className="form-row">
          <Field label="Name" name="name" autoComplete="off" maxLength={100} required error={errors.name} />
          <Field
            label="Email"
            name="email"
            type="email"
            autoComplete="off"
            maxLength={320}
            required
            error={errors.email}
          />
        </div>
        <div className="form-row">
          <div className="field">
            <label htmlFor={`${props.id}-role`}>Role</label>
            <select id={`${props.id}-role`} name="role" className="select" defaultValue="agent">
              {ROLES.map((r) => (
                <option key={r.role} value={r.role}>
                  {ROLE_LABELS[r.role]} — {r.note}
                </option>
              ))}
            </select>
            {errors.role && <p className="field-error">{errors.role}</p>}
          </div>
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="new-password"
            maxLength={256}
            required
            hint="At least 10 characters. Give it to them privately; they sign in with it."
            error={errors.password}
          />
        </div>
        <div className="form-actions">
          <button type="button" className="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={create.isPending}>
            {create.isPending ? "Inviting…" : "Invite"}
          </button>
        </div>
      </form>
    </section>
  );
}
