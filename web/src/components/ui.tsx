import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';
import { formatCompactINR, formatMoney, type Money } from '../lib/money';

interface FieldBase {
  label: string;
  error?: string | undefined;
  hint?: string | undefined;
}

/** A labelled control whose error is announced and tied to it (aria-invalid + aria-describedby). */
function useDescribed(error?: string, hint?: string) {
  const id = useId();
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const describedBy = [hint ? hintId : '', error ? errId : ''].filter(Boolean).join(' ') || undefined;
  return { id, errId, hintId, describedBy };
}

function Messages({ error, hint, errId, hintId }: { error?: string | undefined; hint?: string | undefined; errId: string; hintId: string }) {
  return (
    <>
      {hint && <p className="hint" id={hintId}>{hint}</p>}
      {error && <p className="field-error" id={errId}>{error}</p>}
    </>
  );
}

export function TextField({ label, error, hint, className, ...rest }: FieldBase & InputHTMLAttributes<HTMLInputElement>) {
  const d = useDescribed(error, hint);
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={d.id}>{label}</label>
      <input id={d.id} aria-invalid={error ? true : undefined} aria-describedby={d.describedBy} {...rest} />
      <Messages error={error} hint={hint} errId={d.errId} hintId={d.hintId} />
    </div>
  );
}

export function TextArea({ label, error, hint, className, ...rest }: FieldBase & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const d = useDescribed(error, hint);
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={d.id}>{label}</label>
      <textarea id={d.id} aria-invalid={error ? true : undefined} aria-describedby={d.describedBy} {...rest} />
      <Messages error={error} hint={hint} errId={d.errId} hintId={d.hintId} />
    </div>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField({ label, error, hint, options, className, ...rest }: FieldBase & { options: Option[] } & SelectHTMLAttributes<HTMLSelectElement>) {
  const d = useDescribed(error, hint);
  return (
    <div className={`field ${className ?? ''}`}>
      <label htmlFor={d.id}>{label}</label>
      <select id={d.id} aria-invalid={error ? true : undefined} aria-describedby={d.describedBy} {...rest}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>{o.label}</option>
        ))}
      </select>
      <Messages error={error} hint={hint} errId={d.errId} hintId={d.hintId} />
    </div>
  );
}

/** The message for a whole action, announced when it appears. */
export function FormError({ message }: { message?: string | null | undefined }) {
  return (
    <div className="form-error" role="alert">
      {message ? message : null}
    </div>
  );
}

export function Notice({ children, tone = 'info' }: { children: ReactNode; tone?: 'info' | 'success' | 'warn' }) {
  return <div className={`notice notice-${tone}`} role="status">{children}</div>;
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

/** "Load more" under a paged list (lib/usePaged), while there is more. */
export function LoadMore({ more, busy, onClick }: { more: boolean; busy: boolean; onClick: () => void }) {
  if (!more) return null;
  return <button type="button" onClick={onClick} disabled={busy}>{busy ? 'Loading…' : 'Load more'}</button>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** A price: the short lakh/crore form, the full amount for assistive tech and on hover. */
export function Price({ money, full = false }: { money: Money; full?: boolean }) {
  const compact = formatCompactINR(money);
  const whole = formatMoney(money);
  if (full) {
    return (
      <span className="price">
        {whole}
        {compact !== whole && <span className="price-compact"> ({formatCompactINR(money, true)})</span>}
      </span>
    );
  }
  return <span className="price" title={whole}>{compact}</span>;
}

export const TYPE_LABELS: Record<string, string> = {
  apartment: 'Apartment',
  independent_house: 'Independent house',
  villa: 'Villa',
  plot: 'Plot',
  commercial: 'Commercial',
};

export const STATUS_LABELS: Record<string, string> = {
  draft: 'Draft',
  active: 'For sale',
  reserved: 'Reserved',
  sold: 'Sold',
  withdrawn: 'Withdrawn',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status}`}>{STATUS_LABELS[status] ?? status}</span>;
}
