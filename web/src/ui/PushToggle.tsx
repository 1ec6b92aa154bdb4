import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api';
import { disablePush, enablePush, onOpenConversation, pushState, type PushState } from '../push';
import { conversationPath, navigate } from './hooks';

const labels: Record<PushState, string> = {
  unsupported: 'This browser cannot show notifications',
  blocked: 'Notifications are blocked for this site',
  off: 'Turn on notifications',
  on: 'Turn off notifications',
};

/** The settings control of Web Push: turns this browser's notifications
 *  on and off, and routes a notification click to its conversation. */
export function PushToggle(props: { onError: (msg: string) => void }) {
  const [state, setState] = useState<PushState | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    pushState().then(setState, () => setState('unsupported'));
    return onOpenConversation((id) => navigate(conversationPath(id)));
  }, []);
  if (state === null) return null;
  const toggle = async () => {
    setBusy(true);
    try {
      if (state === 'on') await disablePush();
      else await enablePush();
      setState(await pushState());
    } catch (e) {
      props.onError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <button
      class="icon-btn"
      aria-label={labels[state]}
      title={labels[state]}
      aria-pressed={state === 'on'}
      data-push={state}
      disabled={busy || state === 'unsupported' || state === 'blocked'}
      onClick={() => void toggle()}
    >
      <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2">
        <path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9" />
        <path d="M10.3 21a1.94 1.94 0 0 0 3.4 0" />
        {state !== 'on' && <path d="M3 3l18 18" />}
      </svg>
    </button>
  );
}
