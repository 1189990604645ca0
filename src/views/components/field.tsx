/**
 * A labelled form field with its error message tied to the input (aria-describedby, aria-invalid), so
 * screen readers announce what went wrong where it went wrong.
 */
export interface FieldProps {
  name: string
  label: string
  type?: 'text' | 'email' | 'password' | 'number' | 'search'
  value?: string
  error?: string | undefined
  autocomplete?: string
  required?: boolean
  maxlength?: number
  minlength?: number
  hint?: string
  multiline?: boolean
}

export function Field (props: FieldProps): JSX.Element {
  const id = `field-${props.name}`
  const errorId = `${id}-error`
  const hintId = `${id}-hint`
  const describedBy = [props.hint !== undefined ? hintId : '', props.error !== undefined ? errorId : ''].filter(Boolean).join(' ')
  const common = {
    id,
    name: props.name,
    required: props.required ?? true,
    maxlength: props.maxlength?.toString(),
    minlength: props.minlength?.toString(),
    autocomplete: props.autocomplete,
    'aria-invalid': props.error !== undefined ? 'true' : undefined,
    'aria-describedby': describedBy === '' ? undefined : describedBy
  }
  return (
    <div class={props.error !== undefined ? 'field field-invalid' : 'field'}>
      <label for={id} safe>{props.label}</label>
      {props.hint !== undefined && <p class='hint' id={hintId} safe>{props.hint}</p>}
      {props.multiline === true
        ? <textarea {...common} rows='5' safe>{props.value ?? ''}</textarea>
        : <input {...common} type={props.type ?? 'text'} value={props.value} />}
      {props.error !== undefined && <p class='field-error' id={errorId} safe>{props.error}</p>}
    </div>
  )
}
