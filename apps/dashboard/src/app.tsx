import { errorMessage } from "./errors.ts";
import { SetupPage } from "./pages/setup.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import { useSession, useSetupStatus } from "./session.ts";
import { Shell } from "./shell.tsx";
import { Alert, AuthCard, Spinner } from "./ui.tsx";

/** Signed in → the app; signed out → sign-in, or the owner's setup on a Hugo that has no operator yet. */
export function App() {
  const session = useSession();
  const setup = useSetupStatus(session.data === null);

  if (session.isPending || (session.data === null && setup.isPending)) return <Splash />;
  if (session.isError)
    return (
      <AuthCard title="Hugo can't be reached">
        <Alert>{errorMessage(session.error)}</Alert>
        <button type="button" className="button button-primary" onClick={() => session.refetch()}>
          Try again
        </button>
      </AuthCard>
    );
  if (session.data === null) return setup.data?.needed ? <SetupPage /> : <SignInPage />;
  return <Shell session={session.data} />;
}

function Splash() {
  return (
    <div className="auth-page">
      <Spinner label="Loading Hugo…" />
    </div>
  );
}
