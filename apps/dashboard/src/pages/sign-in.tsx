import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { client } from "../client.ts";
import { errorMessage } from "../errors.ts";
import { startSession } from "../session.ts";
import { Alert, AuthCard, Field, formText, useFormCheck, useTitle } from "../ui.tsx";

export function SignInPage() {
  useTitle("Sign in");
  const queryClient = useQueryClient();
  const signIn = useMutation({
    // A refused sign-in is shown at once: no retry after a 429.
    mutationFn: (body: { email: string; password: string }) => client.auth.login(body, { retries: 0 }),
    onSuccess: (session) => startSession(queryClient, session),
    onError: () => check.focusInvalid(),
  });
  const check = useFormCheck(signIn.error);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const email = formText(event.currentTarget, "email").trim();
    const password = formText(event.currentTarget, "password");
    const ok = check.check({
      ...(email ? {} : { email: "Enter your email address." }),
      ...(password ? {} : { password: "Enter your password." }),
    });
    if (ok) signIn.mutate({ email, password });
  };

  const { errors } = check;
  return (
    <AuthCard title="Sign in" lead="Welcome back. Sign in to your support workspace.">
      {signIn.isError && !check.refusedHere && (
        <Alert title="Couldn't sign in">{errorMessage(signIn.error)}</Alert>
      )}
      <form ref={check.form} onSubmit={submit} noValidate className="form">
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          required
          error={errors.email}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={errors.password}
        />
        <button type="submit" className="button button-primary button-block" disabled={signIn.isPending}>
          {signIn.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </AuthCard>
  );
}
