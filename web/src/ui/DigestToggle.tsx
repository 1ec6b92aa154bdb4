import { useEffect, useState } from 'preact/hooks';
import { describeError, gql } from '../api';

type Settings = { notificationSettings: { emailDigests: boolean } };

/** The e-mail digest opt-out: whether the server may e-mail the caller a
 *  digest of the messages they missed while away (when its operator has
 *  digests on). Hidden when the server keeps no notification settings. */
export function DigestToggle() {
  const [on, setOn] = useState<boolean | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => {
    gql<Settings>('query DigestSetting { notificationSettings { emailDigests } }').then(
      (d) => setOn(d.notificationSettings.emailDigests),
      () => setOn(null),
    );
  }, []);
  if (on === null) return null;
  const change = async (want: boolean) => {
    setOn(want);
    setSaving(true);
    setError('');
    try {
      const d = await gql<{ updateNotificationSettings: { emailDigests: boolean } }>(
        'mutation SetDigests($on: Boolean!) { updateNotificationSettings(input: { emailDigests: $on }) { emailDigests } }',
        { on: want },
      );
      setOn(d.updateNotificationSettings.emailDigests);
    } catch (e) {
      setOn(!want);
      setError(describeError(e));
    } finally {
      setSaving(false);
    }
  };
  return (
    <>
      <label class="check">
        <input
          type="checkbox"
          checked={on}
          disabled={saving}
          aria-describedby="digests-help"
          onChange={(e) => void change(e.currentTarget.checked)}
        />
        <span>E-mail me about messages I miss</span>
      </label>
      <small id="digests-help" class="hint">
        {error || 'A digest of your unread messages after you have been away a while, if this server sends e-mail.'}
      </small>
    </>
  );
}
