import { HugoError } from "@hugo/client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";
import { client } from "../client.ts";
import { errorMessage } from "../errors.ts";
import { SETUP_KEY, startSession } from "../session.ts";
import { Alert, AuthCard, Field, formText, useFormCheck, useTitle } from "../ui.tsx";

type Setup = { name: string; email: string; password: string; website_name: string };

const REQUIRED: Record<keyof Setup, string> = {
  name: "Enter your name.",
  email: "Enter your email address.",
  password: "Choose a password.",
  website_name: "Name your website.",
};
const FIELDS = Object.keys(REQUIRED) as (keyof Setup)[];

/** First run (no operator yet): the owner's account and their website, then signed in. */
export function SetupPage() {
  useTitle("Set up Hugo");
  const queryClient = useQueryClient();
  const setup = useMutation({
    mutationFn: (body: Setup) => client.auth.setup(body, { retries: 0 }),
    onSuccess: (session) => startSession(queryClient, session),
    onError: () => check.focusInvalid(),
  });
  const check = useFormCheck(setup.error);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const body = Object.fromEntries(FIELDS.map((k) => [k, formText(form, k)])) as Setup;
    const ok = check.check(
      Object.fromEntries(FIELDS.filter((k) => !body[k].trim()).map((k) => [k, REQUIRED[k]])),
    );
    if (ok) setup.mutate(body);
  };

  const { errors } = check;
  const done = setup.error instanceof HugoError && setup.error.code === "setup_done";
  return (
    <AuthCard
      wide
      title="Set up Hugo"
      lead="Create the owner account and your first website. You can invite your team afterwards."
    >
      {setup.isError && !check.refusedHere && (
        <Alert title="Couldn't finish the setup">
          {errorMessage(setup.error)}{" "}
          {done && (
            <button
              type="button"
              className="link-button"
              onClick={() => queryClient.setQueryData(SETUP_KEY, { needed: false })}
            >
              Go to sign-in
            </button>
          )}
        </Alert>
      )}
      <form ref={check.form} onSubmit={submit} noValidate className="form">
        <fieldset>
          <legend>You</legend>
          <Field label="Your name" name="name" autoComplete="name" required error={errors.name} />
          <Field label="Email" name="email" type="email" autoComplete="email" required error={errors.email} />
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="new-password"
            required
            hint="At least 10 characters. A few words you'll remember work well."
            error={errors.password}
          />
        </fieldset>
        <fieldset>
          <legend>Your website</legend>
          <Field
            label="Website name"
            name="website_name"
            placeholder="Acme"
            required
            hint="The site or product your visitors chat about."
            error={errors.website_name}
          />
        </fieldset>
        <button type="submit" className="button button-primary button-block" disabled={setup.isPending}>
          {setup.isPending ? "Creating your account…" : "Create owner account"}
        </button>
      </form>
    </AuthCard>
  );
}
