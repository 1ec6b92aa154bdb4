import { useEffect, useState } from 'preact/hooks';
import { session } from '../session';
import { AuthScreen } from './AuthScreen';
import { Main } from './Main';

/** Signed out: the sign-in screen. Signed in: the chat, keyed by user. */
export function App() {
  const [userId, setUserId] = useState(session.session?.userId ?? null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(
    () =>
      session.onChange((s, why) => {
        setUserId(s?.userId ?? null);
        if (why === 'expired') setNotice('Your session has ended. Please sign in again.');
        else if (why === 'signed-in') setNotice(null);
      }),
    [],
  );

  if (!userId) return <AuthScreen notice={notice} />;
  return <Main key={userId} userId={userId} />;
}
