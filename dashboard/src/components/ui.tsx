// Shared building blocks: modal dialog, toasts, loader, copyable code, form fields, forms and their submit.
import type { ComponentChildren, JSX, PartialInputHTMLAttributes } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { CheckIcon, CloseIcon, CopyIcon, EyeIcon } from './icons';

// ---------------------------------------------------------------- modal

interface ModalProps {
  open: boolean;
  title: string;
  description?: string;
  onClose: () => void;
  children: ComponentChildren;
  /** "danger" draws the title in the warning colour */
  tone?: 'danger';
  wide?: boolean;
}

/** A native <dialog>: focus is trapped in it, Escape closes it, focus returns afterwards. */
export function Modal({ open, title, description, onClose, children, tone, wide }: ModalProps): JSX.Element {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descId = useId();
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
      const first =
        dialog.querySelector<HTMLElement>('[autofocus]') ??
        dialog.querySelector<HTMLElement>('input, select, textarea, button:not(.modal-close)');
      first?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
      if (opener.current instanceof HTMLElement) opener.current.focus();
    }
  }, [open]);

  return (
    <dialog
      ref={ref}
      class={`modal${wide ? ' modal-wide' : ''}`}
      aria-labelledby={titleId}
      aria-describedby={description ? descId : undefined}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => {
        // A click on the backdrop (the dialog element itself) closes it.
        if (event.target === ref.current) onClose();
      }}
    >
      {open && (
        <div class="modal-body">
          <div class="modal-head">
            <h2 id={titleId} class={tone === 'danger' ? 'danger-text' : undefined}>
              {title}
            </h2>
            <button type="button" class="icon-button modal-close" aria-label="Close" onClick={onClose}>
              <CloseIcon />
            </button>
          </div>
          {description && (
            <p id={descId} class="muted">
              {description}
            </p>
          )}
          {children}
        </div>
      )}
    </dialog>
  );
}

interface ShownOnceProps {
  open: boolean;
  title: string;
  onClose: () => void;
  children: ComponentChildren;
}

/** A secret the server never shows again (a new API key, a generated password): copy it now, then Done. */
export function ShownOnce({ open, title, onClose, children }: ShownOnceProps): JSX.Element {
  return (
    <Modal open={open} title={title} description="Copy it now: it is shown only once." onClose={onClose} wide>
      {open && (
        <div class="stack">
          {children}
          <div class="form-actions">
            <button type="button" class="button button-primary" onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}

// ---------------------------------------------------------------- toasts

interface Toast {
  id: number;
  title: string;
  message: string;
  tone: 'success' | 'error';
}

let toasts: Toast[] = [];
let nextId = 1;
const toastListeners = new Set<(list: Toast[]) => void>();

function publish(): void {
  for (const listener of toastListeners) listener(toasts);
}

export function toast(title: string, message: string, tone: Toast['tone'] = 'success'): void {
  const item = { id: nextId++, title, message, tone };
  toasts = [...toasts, item];
  publish();
  window.setTimeout(() => {
    toasts = toasts.filter((t) => t.id !== item.id);
    publish();
  }, 5000);
}

export function Toasts(): JSX.Element {
  const [list, setList] = useState<Toast[]>(toasts);
  useEffect(() => {
    toastListeners.add(setList);
    return () => {
      toastListeners.delete(setList);
    };
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div key={t.id} class={`toast toast-${t.tone}`}>
          <span class="toast-icon">{t.tone === 'success' ? <CheckIcon /> : <CloseIcon size={16} />}</span>
          <div>
            <strong>{t.title}</strong>
            <div>{t.message}</div>
          </div>
          <button
            type="button"
            class="icon-button"
            aria-label="Dismiss"
            onClick={() => {
              toasts = toasts.filter((x) => x.id !== t.id);
              publish();
            }}
          >
            <CloseIcon size={14} />
          </button>
        </div>
      ))}
    </div>
  );
}

// ---------------------------------------------------------------- loader

export function Loader({ label = 'Loading…', inline }: { label?: string; inline?: boolean }): JSX.Element {
  return (
    <div class={inline ? 'loader loader-inline' : 'loader'} role="status" aria-live="polite">
      <span class="loader-bars" aria-hidden="true">
        <span />
        <span />
        <span />
      </span>
      <span class="visually-hidden">{label}</span>
    </div>
  );
}

// ---------------------------------------------------------------- copyable code

export function CopyCode({ code, label }: { code: string; label: string }): JSX.Element {
  const [copied, setCopied] = useState(false);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(code);
    } catch {
      // Clipboard API needs a secure context; fall back to selecting the text.
      const range = document.createRange();
      const node = document.getElementById(`code-${label}`);
      if (node) {
        range.selectNodeContents(node);
        window.getSelection()?.removeAllRanges();
        window.getSelection()?.addRange(range);
        document.execCommand('copy');
      }
    }
    setCopied(true);
    window.setTimeout(() => setCopied(false), 2000);
  };
  return (
    <div class="code-box">
      <code id={`code-${label}`} data-testid="snippet">
        {code}
      </code>
      <button type="button" class="icon-button" onClick={copy} aria-label={copied ? 'Copied' : `Copy ${label}`}>
        {copied ? <CheckIcon /> : <CopyIcon />}
      </button>
    </div>
  );
}

export function trackerSnippet(): string {
  return `<script defer src="${window.location.origin}/script.js"></script>`;
}

/** The snippet for sites that speak Umami's tracker protocol (docs/umami.md). */
export function umamiSnippet(websiteId: string): string {
  return `<script defer src="${window.location.origin}/umami/script.js" data-website-id="${websiteId}"></script>`;
}

// ---------------------------------------------------------------- form fields

interface FieldProps {
  label: string;
  hint?: string;
  error?: string;
  children: (ids: { id: string; describedBy?: string; invalid: boolean }) => JSX.Element;
}

/** A label, a control, an optional hint and an error message, all wired for screen readers. */
export function Field({ label, hint, error, children }: FieldProps): JSX.Element {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children({ id, describedBy, invalid: Boolean(error) })}
      {hint && (
        <div id={hintId} class="field-hint">
          {hint}
        </div>
      )}
      {error && (
        <div id={errorId} class="field-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

interface PasswordProps {
  id: string;
  value: string;
  onInput: (value: string) => void;
  placeholder?: string;
  autocomplete: string;
  describedBy?: string;
  invalid?: boolean;
  required?: boolean;
}

export function PasswordInput(props: PasswordProps): JSX.Element {
  const [shown, setShown] = useState(false);
  return (
    <div class="input-with-button">
      <input
        id={props.id}
        {...(shown ? { type: 'text' as const } : { type: 'password' as const })}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        placeholder={props.placeholder}
        autocomplete={props.autocomplete}
        aria-describedby={props.describedBy}
        aria-invalid={props.invalid || undefined}
        required={props.required}
      />
      <button
        type="button"
        class="icon-button"
        aria-label={shown ? 'Hide password' : 'Show password'}
        aria-pressed={shown}
        onClick={() => setShown(!shown)}
      >
        <EyeIcon off={shown} />
      </button>
    </div>
  );
}

type InputAttributes = 'name' | 'placeholder' | 'autocomplete' | 'autocapitalize' | 'spellcheck' | 'readOnly' | 'disabled' | 'required' | 'autofocus';

type TextFieldProps = Pick<PartialInputHTMLAttributes<HTMLInputElement>, InputAttributes> & {
  label: string;
  hint?: string;
  error?: string;
  value: string;
  onInput: (value: string) => void;
};

/** A labelled text input with its hint and error wired for screen readers; other props go to the <input>. */
export function TextField({ label, hint, error, value, onInput, ...input }: TextFieldProps): JSX.Element {
  return (
    <Field label={label} hint={hint} error={error}>
      {({ id, describedBy, invalid }) => (
        <input
          {...input}
          id={id}
          value={value}
          onInput={(e) => onInput(e.currentTarget.value)}
          aria-describedby={describedBy}
          aria-invalid={invalid || undefined}
        />
      )}
    </Field>
  );
}

/** A group of checkboxes or radio buttons; the legend names the group for screen readers only. */
export function Choices({ legend, children }: { legend: string; children: ComponentChildren }): JSX.Element {
  return (
    <fieldset class="checks">
      <legend class="visually-hidden">{legend}</legend>
      {children}
    </fieldset>
  );
}

interface ChoiceProps {
  type: 'checkbox' | 'radio';
  name?: string;
  title: string;
  hint?: ComponentChildren;
  checked: boolean;
  disabled?: boolean;
  /** Called with the new state; a radio button only ever reports `true`. */
  onChange?: (checked: boolean) => void;
}

/** One checkbox or radio button: its title in bold, an optional hint below it, wired for screen readers. */
export function Choice({ type, name, title, hint, checked, disabled, onChange }: ChoiceProps): JSX.Element {
  const hintId = `${useId()}-hint`;
  return (
    <label class="check">
      <input
        type={type}
        name={name}
        checked={checked}
        disabled={disabled}
        onChange={(e) => onChange?.(e.currentTarget.checked)}
        aria-describedby={hint ? hintId : undefined}
      />
      <span>
        <strong>{title}</strong>
        {hint && (
          <span id={hintId} class="field-hint">
            {hint}
          </span>
        )}
      </span>
    </label>
  );
}

export function Card({
  title,
  description,
  children,
  footer,
  tone,
}: {
  title: string;
  description?: ComponentChildren;
  children?: ComponentChildren;
  footer?: ComponentChildren;
  tone?: 'danger';
}): JSX.Element {
  const id = useId();
  return (
    <section class={`card section-card${tone === 'danger' ? ' card-danger' : ''}`} aria-labelledby={id}>
      <div class="section-card-body">
        <h2 id={id}>{title}</h2>
        {description && <p class="muted">{description}</p>}
        {children}
      </div>
      {footer && <div class="section-card-footer">{footer}</div>}
    </section>
  );
}

/** A card that is a form: its fields inside, one submit button in the footer. */
export function FormCard({
  title,
  description,
  submitLabel,
  busy,
  disabled,
  onSubmit,
  children,
}: {
  title: string;
  description?: ComponentChildren;
  submitLabel: string;
  busy: boolean;
  /** Another reason the button is off (nothing to save yet). */
  disabled?: boolean;
  onSubmit: (event: Event) => void;
  children: ComponentChildren;
}): JSX.Element {
  return (
    <form onSubmit={onSubmit} noValidate>
      <Card
        title={title}
        description={description}
        footer={
          <button type="submit" class="button button-primary" disabled={busy || disabled}>
            {submitLabel}
          </button>
        }
      >
        {children}
      </Card>
    </form>
  );
}

interface SubmitOptions {
  /** A message to show instead of sending, when the input is not acceptable. */
  validate?: () => string | undefined;
  /** The message to show for an API error status, instead of the server's own. */
  messages?: Record<number, string>;
}

/**
 * A form's submit, its error and its busy state: validate, then `send` with the button disabled. An API
 * error becomes the form's error, except 401, after which the app is already on the login page.
 */
export function useSubmit(
  send: () => Promise<void>,
  { validate, messages }: SubmitOptions = {},
): { submit: (event: Event) => Promise<void>; error: string | undefined; busy: boolean } {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const invalid = validate?.();
    if (invalid) {
      setError(invalid);
      return;
    }
    setError(undefined);
    setBusy(true);
    try {
      await send();
    } catch (err) {
      if (err instanceof ApiError && err.status !== 401) setError(messages?.[err.status] ?? err.message);
    } finally {
      setBusy(false);
    }
  };
  return { submit, error, busy };
}
