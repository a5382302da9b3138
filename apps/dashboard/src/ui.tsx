import { type InputHTMLAttributes, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { fieldErrors } from "./errors.ts";
import { Logo } from "./icons.tsx";

/** `Analytics · Hugo` in the tab and the history. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Hugo`;
  }, [title]);
}

/**
 * A page's title. It takes the focus when the page opens, so a screen reader announces where a
 * link led (a client-side navigation moves no focus by itself).
 */
export function PageHeader(props: { title: string; description?: ReactNode; actions?: ReactNode }) {
  useTitle(props.title);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus({ preventScroll: true }), []);
  return (
    <header className="page-header">
      <div>
        <h1 ref={heading} tabIndex={-1}>
          {props.title}
        </h1>
        {props.description && <p className="page-description">{props.description}</p>}
      </div>
      {props.actions && <div className="page-actions">{props.actions}</div>}
    </header>
  );
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  name: string;
  hint?: string;
  error?: string;
};

/** A labelled input whose hint and error are read with it (aria-describedby). */
export function Field({ label, hint, error, className, ...input }: FieldProps) {
  const id = useId();
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ");
  return (
    <div className={`field${className ? ` ${className}` : ""}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...input}
      />
      {hint && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** A message that screen readers announce as it appears. */
export function Alert(props: { tone?: "error" | "success" | "info"; title?: string; children: ReactNode }) {
  const tone = props.tone ?? "error";
  return (
    <div className={`alert alert-${tone}`} role={tone === "error" ? "alert" : "status"}>
      {props.title && <p className="alert-title">{props.title}</p>}
      <div>{props.children}</div>
    </div>
  );
}

export function Spinner(props: { label: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{props.label}</span>
    </div>
  );
}

/**
 * A form's problems: what `check` found missing before sending, over the server's per-field messages
 * (`issues` of a 400). After a refused submit the first invalid control takes the focus.
 */
export function useFormCheck(serverError: unknown) {
  const form = useRef<HTMLFormElement>(null);
  const [local, setLocal] = useState<Record<string, string>>({});
  const focusInvalid = () =>
    requestAnimationFrame(() => form.current?.querySelector<HTMLElement>("[aria-invalid='true']")?.focus());
  return {
    form,
    errors: { ...fieldErrors(serverError), ...local },
    /** Problems were found before sending (the server's answer, if any, is stale). */
    refusedHere: Object.keys(local).length > 0,
    focusInvalid,
    /** Records the problems found before sending; true when there are none and the form may be sent. */
    check(problems: Record<string, string>): boolean {
      setLocal(problems);
      if (Object.keys(problems).length === 0) return true;
      focusInvalid();
      return false;
    },
  };
}

/** The text fields of a submitted form, by name. */
export const formText = (form: HTMLFormElement, name: string) => String(new FormData(form).get(name) ?? "");

/** The signed-out pages' card: the brand, a title and a lead. */
export function AuthCard(props: { title: string; lead?: string; wide?: boolean; children: ReactNode }) {
  return (
    <main className="auth-page">
      <div className={props.wide ? "auth-card auth-card-wide" : "auth-card"}>
        <div className="auth-brand">
          <Logo size={36} />
          <span>Hugo</span>
        </div>
        <h1>{props.title}</h1>
        {props.lead && <p className="auth-lead">{props.lead}</p>}
        {props.children}
      </div>
    </main>
  );
}

/**
 * A modal confirmation for something that cannot be undone (revoke a token, remove an operator):
 * `showModal()` focuses the first control, Cancel, the safe choice; Esc cancels; the server's
 * refusal shows inside.
 */
export function ConfirmDialog(props: {
  title: ReactNode;
  children: ReactNode;
  /** The confirm button's label, and its label while the change is on its way. */
  confirm: string;
  confirming: string;
  pending: boolean;
  error: string | undefined;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={dialog}
      className="dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-text`}
      onCancel={(event) => {
        event.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id={`${id}-title`}>{props.title}</h2>
      <p id={`${id}-text`}>{props.children}</p>
      {props.error && <Alert>{props.error}</Alert>}
      <div className="form-actions">
        <button type="button" className="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-danger"
          onClick={props.onConfirm}
          disabled={props.pending}
        >
          {props.pending ? props.confirming : props.confirm}
        </button>
      </div>
    </dialog>
  );
}

/**
 * A page's status line (a live region): `say` shows a sentence and, by default, moves the focus
 * there (after a form or a dialog closes, so keyboard and screen-reader users hear what happened).
 */
export function useNotice() {
  const [text, setText] = useState("");
  const ref = useRef<HTMLParagraphElement>(null);
  return {
    say(sentence: string, focus = true) {
      setText(sentence);
      if (focus) requestAnimationFrame(() => ref.current?.focus());
    },
    clear: () => setText(""),
    element: (
      <p ref={ref} tabIndex={-1} className={text ? "notice" : "visually-hidden"} role="status">
        {text}
      </p>
    ),
  };
}
