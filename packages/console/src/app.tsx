import { isPermissionDenied, isUnauthenticated, type VClusterApiClient } from "@open-vcluster/web";
import { useState } from "preact/hooks";
import { describeError } from "./api/describe-error.js";
import { SignInPage } from "./auth/sign-in-page.js";
import { clearToken, readToken } from "./auth/token-store.js";
import { DetailPage } from "./detail/detail-page.js";
import { ListPage } from "./list/list-page.js";
import { Link } from "./routing/link.js";
import { useRoute } from "./routing/route.js";
import { ClientContext } from "./state/client-context.js";
import { NotificationProvider } from "./state/notifications.js";
import { useVClusters } from "./state/use-vclusters.js";
import { ConnectionIndicator } from "./ui/connection-indicator.js";
import { NotificationsView } from "./ui/notifications-view.js";

export function App(props: { client: VClusterApiClient }) {
  return (
    <ClientContext.Provider value={props.client}>
      <NotificationProvider>
        <Console client={props.client} />
        <NotificationsView />
      </NotificationProvider>
    </ClientContext.Provider>
  );
}

function Console(props: { client: VClusterApiClient }) {
  const [session, setSession] = useState(0);
  const state = useVClusters(props.client, session);
  const route = useRoute();
  const restart = () => setSession((n) => n + 1);
  const signOut = () => {
    clearToken();
    restart();
  };

  if (isUnauthenticated(state.error)) return <SignInPage onSignedIn={restart} />;
  const signedIn = readToken() !== undefined;
  return (
    <>
      <header class="topbar">
        <Link href="/" class="brand">
          <img src="/favicon.svg" alt="" width="22" height="22" />
          vcluster console
        </Link>
        <div class="topbar-right">
          <ConnectionIndicator status={state.error ? "closed" : state.status} />
          {signedIn ? (
            <button type="button" class="button button-ghost" onClick={signOut}>
              Sign out
            </button>
          ) : null}
        </div>
      </header>
      {state.error ? (
        <div class="page">
          <div class="form-error" role="alert">
            <strong>
              {isPermissionDenied(state.error)
                ? "This token may not list vclusters."
                : `The vcluster list stopped: ${describeError(state.error).message}`}
            </strong>
            <button type="button" class="button" onClick={restart}>
              Try again
            </button>
          </div>
        </div>
      ) : route.view === "detail" ? (
        <DetailPage
          namespace={route.namespace}
          name={route.name}
          synced={state.synced}
          vcluster={state.vclusters.find((v) => v.namespace === route.namespace && v.name === route.name)}
        />
      ) : (
        <ListPage vclusters={state.vclusters} synced={state.synced} />
      )}
    </>
  );
}
