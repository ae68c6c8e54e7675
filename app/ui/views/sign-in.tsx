import { Page } from './layout.js';

/** Token sign-in; the token goes to ext-auth to learn who it belongs to and is never shown again. */
export function SignInPage({ next, problem }: { next: string; problem?: string }) {
  return (
    <Page title="Sign in">
      <h1>Sign in to review</h1>
      {problem && (
        <p class="notice error" role="alert">
          {problem}
        </p>
      )}
      <form method="post" action="/sign-in" class="sign-in">
        <input type="hidden" name="next" value={next} />
        <label for="token">Reviewer token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
        <button type="submit">Sign in</button>
      </form>
      <p class="hint">
        Your token identifies you to the approval gate; decisions are recorded under the name it belongs to.
      </p>
    </Page>
  );
}
