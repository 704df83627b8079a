import { useId, useRef, type InputHTMLAttributes } from 'react';
import { FieldErrors, errorId } from '@/components/fields';

/** The most custom headers an endpoint has (the API refuses more). */
export const MAX_HEADERS = 20;

/** One row of the editor: a stored header (its value masked) or one being added. */
export interface HeaderRow {
  /** React's key for the row. */
  key: string;
  name: string;
  /** A new value; for a stored header, empty keeps the stored one. */
  value: string;
  /** The stored value as the API shows it (masked); absent for a header being added. */
  stored?: string;
  /** A stored header marked for removal. */
  removed?: boolean;
}

/** The rows of an endpoint's stored headers, as the API shows them. */
export function storedRows(headers: Record<string, string> | undefined): HeaderRow[] {
  return Object.entries(headers ?? {}).map(([name, stored]) => ({
    key: `stored-${name}`,
    name,
    value: '',
    stored,
  }));
}

/**
 * The changes the rows make, as the API's merge patch takes them: a header to set to a value,
 * or to remove (`null`). Stored headers left as they are do not appear, nor do empty new rows; a
 * value without a name is sent as it is, for the API to refuse.
 */
export function headerChanges(rows: readonly HeaderRow[]): Record<string, string | null> {
  const changes: Record<string, string | null> = {};
  for (const row of rows) {
    const name = row.name.trim();
    if (!name && !row.value) continue;
    if (row.stored !== undefined && row.removed) {
      changes[name] = null;
    } else if (row.stored === undefined || row.value !== '') {
      changes[name] = row.value;
    }
  }
  return changes;
}

/** The headers a new endpoint is created with: the changes that set a value. */
export function setHeaders(changes: Record<string, string | null>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(changes).filter((entry): entry is [string, string] => entry[1] !== null),
  );
}

/** An endpoint's stored headers, names with their masked values, for its details. */
export function HeaderList({ headers }: { headers: Record<string, string> | undefined }) {
  const entries = Object.entries(headers ?? {});
  if (!entries.length) return <span className="muted">None</span>;
  return (
    <ul className="plain-list">
      {entries.map(([name, masked]) => (
        <li key={name}>
          <code>{name}</code>: <code>{masked}</code>
        </li>
      ))}
    </ul>
  );
}

/** The number of the new row at `index` among the new rows (1 for the first): it tells their
 * inputs apart by name. */
function newNumber(rows: readonly HeaderRow[], index: number): number {
  return rows.slice(0, index + 1).filter((row) => row.stored === undefined).length;
}

/** A text input of the editor: names and values are typed as they are, never autofilled. */
function HeaderInput({ className, ...input }: InputHTMLAttributes<HTMLInputElement>) {
  return <input className={`input ${className ?? ''}`} autoComplete="off" spellCheck={false} {...input} />;
}

interface HeadersEditorProps {
  rows: HeaderRow[];
  onChange: (rows: HeaderRow[]) => void;
  errors?: readonly string[] | undefined;
}

/** The "Custom headers" group of the endpoint form. */
export function HeadersEditor({ rows, onChange, errors }: HeadersEditorProps) {
  const id = useId();
  const added = useRef(0);
  const hintId = `${id}-hint`;
  const kept = rows.filter((row) => !row.removed).length;

  function update(key: string, change: Partial<HeaderRow>) {
    onChange(rows.map((row) => (row.key === key ? { ...row, ...change } : row)));
  }

  function add() {
    added.current += 1;
    onChange([...rows, { key: `new-${added.current}`, name: '', value: '' }]);
  }

  return (
    <fieldset
      className="fieldset"
      aria-describedby={[hintId, errors?.length ? errorId('headers') : ''].filter(Boolean).join(' ')}
    >
      <legend className="fieldset__legend">Custom headers</legend>
      <p id={hintId} className="field__hint">
        Sent with every delivery, for example an API key your server checks. Values are stored
        encrypted and never shown again in full.
      </p>
      <FieldErrors name="headers" errors={errors} />
      {rows.length ? (
        <ul className="header-rows">
          {rows.map((row, index) =>
            row.stored !== undefined ? (
              <li key={row.key} className="header-row">
                <code className="header-row__name">{row.name}</code>
                {row.removed ? (
                  <span className="muted header-row__value">Removed when you save</span>
                ) : (
                  <HeaderInput
                    className="header-row__value"
                    aria-label={`New value for ${row.name}`}
                    placeholder={`Keep ${row.stored}`}
                    maxLength={1024}
                    value={row.value}
                    onChange={(e) => update(row.key, { value: e.target.value })}
                  />
                )}
                <button
                  type="button"
                  className="button button--ghost button--small"
                  onClick={() => update(row.key, { removed: !row.removed, value: '' })}
                >
                  {row.removed ? `Keep ${row.name}` : `Remove ${row.name}`}
                </button>
              </li>
            ) : (
              <li key={row.key} className="header-row">
                <HeaderInput
                  className="header-row__name"
                  aria-label={`Header ${newNumber(rows, index)} name`}
                  placeholder="X-Api-Key"
                  maxLength={64}
                  value={row.name}
                  onChange={(e) => update(row.key, { name: e.target.value })}
                />
                <HeaderInput
                  className="header-row__value"
                  aria-label={`Header ${newNumber(rows, index)} value`}
                  maxLength={1024}
                  value={row.value}
                  onChange={(e) => update(row.key, { value: e.target.value })}
                />
                <button
                  type="button"
                  className="button button--ghost button--small"
                  onClick={() => onChange(rows.filter((r) => r.key !== row.key))}
                >
                  Remove header {newNumber(rows, index)}
                </button>
              </li>
            ),
          )}
        </ul>
      ) : null}
      <button
        type="button"
        className="button button--secondary button--small"
        onClick={add}
        disabled={kept >= MAX_HEADERS}
      >
        Add header
      </button>
    </fieldset>
  );
}
