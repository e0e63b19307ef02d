import { isUnauthenticated } from "@open-vcluster/web";
import { useState } from "preact/hooks";
import { describeError } from "../api/describe-error.js";
import { useClient } from "../state/client-context.js";
import { Field } from "../ui/field.js";
import { clearToken, readToken, saveToken } from "./token-store.js";

const focusOnMount = (input: HTMLInputElement | null) => input?.focus();

/** Shown when the server asks for credentials: the token is checked before it is kept. */
export function SignInPage(props: { onSignedIn: () => void }) {
  const client = useClient();
  const [token, setToken] = useState("");
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const hadToken = readToken() !== undefined;

  const submit = async (event: Event) => {
    event.preventDefault();
    setChecking(true);
    setError(undefined);
    saveToken(token.trim());
    try {
      await client.vclusters.listVClusters({ pageSize: 1 });
      props.onSignedIn();
    } catch (failure) {
      clearToken();
      setError(isUnauthenticated(failure) ? "The server did not accept this token." : describeError(failure).message);
    } finally {
      setChecking(false);
    }
  };
  return (
    <main class="sign-in">
      <form class="card sign-in-card" onSubmit={submit} noValidate>
        <div class="sign-in-brand">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          vcluster console
        </div>
        <h1>Sign in</h1>
        <p class="muted">
          {hadToken ? "Your session has expired or the token was revoked. " : ""}
          This server requires a bearer token. It is kept in this tab only, until the tab is closed.
        </p>
        <Field label="API token" error={error}>
          <input
            name="token"
            type="password"
            value={token}
            onInput={(e) => setToken(e.currentTarget.value)}
            autoComplete="off"
            ref={focusOnMount}
          />
        </Field>
        <button type="submit" class="button button-primary button-block" disabled={checking || token.trim() === ""}>
          {checking ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
