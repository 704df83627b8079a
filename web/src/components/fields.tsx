import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from 'react';

/** A stable element id for a form field named by an API path (`parcels[0].weight_grams`). */
export function fieldId(name: string): string {
  return `field-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

export function errorId(name: string): string {
  return `${fieldId(name)}-error`;
}

function describedBy(...ids: (string | false | undefined)[]): string | undefined {
  const list = ids.filter(Boolean).join(' ');
  return list || undefined;
}

interface FieldFrameProps {
  name: string;
  label: ReactNode;
  hint?: ReactNode;
  errors?: readonly string[] | undefined;
  optional?: boolean;
  className?: string;
}

/** The messages of a field or group, referenced by `aria-describedby`. */
export function FieldErrors({ name, errors }: { name: string; errors?: readonly string[] | undefined }) {
  if (!errors?.length) return null;
  return (
    <p id={errorId(name)} className="field-error">
      {errors.join(' ')}
    </p>
  );
}

/** What the frame gives its control: its id and name, and its link to the hint and errors. */
interface ControlProps {
  id: string;
  name: string;
  'aria-invalid': true | undefined;
  'aria-describedby': string | undefined;
}

/** A field's label (with "(optional)"), hint and errors around the control it renders. */
function FieldFrame({
  name,
  label,
  hint,
  errors,
  optional,
  className,
  children,
}: FieldFrameProps & { children: (control: ControlProps) => ReactNode }) {
  const id = fieldId(name);
  const invalid = Boolean(errors?.length);
  return (
    <div className={`field${className ? ` ${className}` : ''}`}>
      <label htmlFor={id} className="field__label">
        {label}
        {optional ? <span className="field__optional"> (optional)</span> : null}
      </label>
      {hint ? (
        <p id={`${id}-hint`} className="field__hint">
          {hint}
        </p>
      ) : null}
      {children({
        id,
        name,
        'aria-invalid': invalid || undefined,
        'aria-describedby': describedBy(hint ? `${id}-hint` : undefined, invalid && errorId(name)),
      })}
      <FieldErrors name={name} errors={errors} />
    </div>
  );
}

type TextFieldProps = FieldFrameProps &
  Omit<InputHTMLAttributes<HTMLInputElement>, 'name' | 'id' | 'className'>;

/** A labelled input with its hint and its errors (`aria-invalid`, `aria-describedby`). */
export function TextField({ name, label, hint, errors, optional, className, ...input }: TextFieldProps) {
  return (
    <FieldFrame name={name} label={label} hint={hint} errors={errors} optional={optional} className={className}>
      {(control) => <input {...control} className="input" {...input} />}
    </FieldFrame>
  );
}

type SelectFieldProps = FieldFrameProps &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, 'name' | 'id' | 'className'> & {
    children: ReactNode;
  };

/** A labelled select, framed like `TextField`. */
export function SelectField({ name, label, hint, errors, optional, className, children, ...select }: SelectFieldProps) {
  return (
    <FieldFrame name={name} label={label} hint={hint} errors={errors} optional={optional} className={className}>
      {(control) => (
        <select {...control} className="input select" {...select}>
          {children}
        </select>
      )}
    </FieldFrame>
  );
}
