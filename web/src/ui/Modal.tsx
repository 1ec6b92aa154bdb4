// A modal dialog (the native <dialog>: focus trapped, Escape closes) and the
// small state every action button in one needs.

import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api';
import { maxReasonBytes, utf8Bytes } from '../limits';
import { IconClose } from './icons';

let ids = 0;

/** A modal with a title and a close button; onClose runs however it closes. */
export function Modal(props: { title: string; onClose(): void; children: ComponentChildren; wide?: boolean; label?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [titleId] = useState(() => `modal-${++ids}`);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} class={`dialog ${props.wide ? 'dialog-wide' : ''}`} aria-labelledby={titleId} onClose={props.onClose}>
      <header class="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" class="icon-btn" aria-label="Close" onClick={() => ref.current?.close()}>
          <IconClose />
        </button>
      </header>
      {props.children}
    </dialog>
  );
}

/** Runs one action at a time, keeping whether it runs and its error (a sentence). */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (f: () => Promise<unknown>): Promise<boolean> => {
    if (busy) return false;
    setBusy(true);
    setError(null);
    try {
      await f();
      return true;
    } catch (e) {
      setError(describeError(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}

/** An inline error, announced. */
export function ErrorLine(props: { error: string | null }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {props.error}
    </p>
  );
}

/** A reason box with its byte limit; required when required. */
export function ReasonField(props: { value: string; onInput(v: string): void; label?: string; required?: boolean }) {
  const [id] = useState(() => `reason-${++ids}`);
  const tooLong = utf8Bytes(props.value) > maxReasonBytes;
  return (
    <label class="field" for={id}>
      <span>
        {props.label ?? 'Reason'} {!props.required && <small>(optional)</small>}
      </span>
      <textarea
        id={id}
        rows={2}
        value={props.value}
        required={props.required}
        aria-invalid={tooLong ? 'true' : undefined}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      {tooLong && <small class="error">At most {maxReasonBytes} bytes.</small>}
    </label>
  );
}

/** Whether a reason may be sent. */
export function reasonOk(reason: string, required = false): boolean {
  return utf8Bytes(reason) <= maxReasonBytes && (!required || !!reason.trim());
}
