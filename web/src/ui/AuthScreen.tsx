import { useState } from 'preact/hooks';
import { maxDisplayNameBytes, maxEmailBytes, maxPasswordLength, maxUsernameBytes, minPasswordLength, utf8Bytes } from '../limits';
import { basePath, workspaceOf } from '../base';
import { session, AuthError } from '../session';

const passwordRule = `At least ${minPasswordLength} characters, with an upper-case letter, a lower-case letter and a digit.`;

export function passwordProblem(p: string): string | null {
  const n = [...p].length; // the server counts characters (code points)
  if (n > maxPasswordLength) return `Password: at most ${maxPasswordLength} characters.`;
  if (n < minPasswordLength || !/\p{Ll}/u.test(p) || !/\p{Lu}/u.test(p) || !/\p{Nd}/u.test(p)) return `Password: ${passwordRule.toLowerCase()}`;
  return null;
}

/** What the server would refuse in a sign-up for its length, or null. */
function signUpProblem(u: { email: string; username: string; displayName: string }): string | null {
  if (utf8Bytes(u.email) > maxEmailBytes) return `Email: at most ${maxEmailBytes} characters.`;
  if (utf8Bytes(u.username) > maxUsernameBytes) return `Username: at most ${maxUsernameBytes} characters.`;
  if (utf8Bytes(u.displayName) > maxDisplayNameBytes) return `Display name: at most ${maxDisplayNameBytes} bytes.`;
  return null;
}

function authMessage(e: unknown, mode: 'signin' | 'signup'): string {
  if (!(e instanceof AuthError)) return e instanceof Error ? e.message : String(e);
  switch (e.code) {
    case 'NotAuthorized':
      return mode === 'signin' ? 'Wrong email, username or password.' : e.message;
    case 'UsernameExists':
      return 'An account with that email or username already exists.';
    case 'TooManyRequests':
      return 'Too many attempts. Wait a minute, then try again.';
    default:
      return e.message;
  }
}

/** The invitation token of the page's address (an invitation link,
 *  confab workspace invite: <base>?invite=<token>), or "". */
function invitationOfPage(): string {
  return new URLSearchParams(location.search).get('invite')?.trim() ?? '';
}

export function AuthScreen(props: { notice?: string | null }) {
  const [invitation, setInvitation] = useState(invitationOfPage);
  const invited = invitation !== '' || invitationOfPage() !== '';
  const workspace = workspaceOf(basePath());
  const [mode, setMode] = useState<'signin' | 'signup'>(invited ? 'signup' : 'signin');
  const [login, setLogin] = useState('');
  const [email, setEmail] = useState('');
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const switchMode = (m: 'signin' | 'signup') => {
    setMode(m);
    setError(null);
    setPassword('');
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setError(null);
    if (mode === 'signup') {
      const p = signUpProblem({ email, username, displayName }) ?? passwordProblem(password);
      if (p) {
        setError(p);
        return;
      }
    }
    setBusy(true);
    try {
      if (mode === 'signin') await session.signIn(login, password);
      else {
        await session.signUp({ email, password, username, displayName, invitation });
        // Used: a reload of the signed-in app should not show it again.
        if (invitationOfPage()) history.replaceState(null, '', location.pathname);
      }
    } catch (err) {
      setError(authMessage(err, mode));
      setBusy(false);
    }
  };

  return (
    <main class="auth">
      <div class="auth-card">
        <div class="brand">
          <span class="brand-mark" aria-hidden="true">
            c
          </span>
          <h1>confab</h1>
        </div>
        {workspace && (
          <p class="hint workspace-name">
            Workspace <strong>{workspace}</strong>
          </p>
        )}
        {props.notice && (
          <p class="notice" role="status">
            {props.notice}
          </p>
        )}
        <form onSubmit={submit} aria-labelledby="auth-title">
          <h2 id="auth-title">{mode === 'signin' ? 'Sign in' : 'Create your account'}</h2>
          {mode === 'signin' ? (
            <label class="field">
              <span>Email or username</span>
              <input
                name="login"
                autocomplete="username"
                required
                value={login}
                onInput={(e) => setLogin(e.currentTarget.value)}
              />
            </label>
          ) : (
            <>
              <label class="field">
                <span>Email</span>
                <input
                  type="email"
                  name="email"
                  autocomplete="email"
                  required
                  value={email}
                  onInput={(e) => setEmail(e.currentTarget.value)}
                />
              </label>
              <label class="field">
                <span>
                  Username <small>(optional; how people find you)</small>
                </span>
                <input
                  name="username"
                  autocomplete="username"
                  value={username}
                  onInput={(e) => setUsername(e.currentTarget.value)}
                />
              </label>
              <label class="field">
                <span>
                  Display name <small>(optional)</small>
                </span>
                <input
                  name="displayName"
                  autocomplete="name"
                  value={displayName}
                  onInput={(e) => setDisplayName(e.currentTarget.value)}
                />
              </label>
              {invited && (
                <label class="field">
                  <span>
                    Invitation <small>(from your invitation link)</small>
                  </span>
                  <input
                    name="invitation"
                    autocomplete="off"
                    spellcheck={false}
                    value={invitation}
                    onInput={(e) => setInvitation(e.currentTarget.value)}
                  />
                </label>
              )}
            </>
          )}
          <label class="field">
            <span>Password</span>
            <input
              type="password"
              name="password"
              autocomplete={mode === 'signin' ? 'current-password' : 'new-password'}
              required
              aria-describedby={mode === 'signup' ? 'password-rule' : undefined}
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </label>
          {mode === 'signup' && (
            <small id="password-rule" class="hint field-hint">
              {passwordRule}
            </small>
          )}
          {error && (
            <p class="error" role="alert">
              {error}
            </p>
          )}
          <button class="primary wide" type="submit" disabled={busy}>
            {busy ? (mode === 'signin' ? 'Signing in…' : 'Creating account…') : mode === 'signin' ? 'Sign in' : 'Create account'}
          </button>
        </form>
        <p class="switch">
          {mode === 'signin' ? (
            <>
              New here?{' '}
              <button type="button" class="link" onClick={() => switchMode('signup')}>
                Create an account
              </button>
            </>
          ) : (
            <>
              Have an account?{' '}
              <button type="button" class="link" onClick={() => switchMode('signin')}>
                Sign in
              </button>
            </>
          )}
        </p>
      </div>
    </main>
  );
}
