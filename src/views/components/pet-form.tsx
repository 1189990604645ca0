/** The add / edit pet form, shared by the new-pet page and the pet page's staff controls. */
import { CsrfField } from './csrf-field.js'
import { Field } from './field.js'

export interface PetFormValues { name: string, age: string, bio: string }
export type PetFormErrors = Partial<Record<keyof PetFormValues | 'form', string>>

export interface PetFormProps {
  action: string
  submitLabel: string
  csrfToken: string
  values: PetFormValues
  errors: PetFormErrors
}

export function PetForm ({ action, submitLabel, csrfToken, values, errors }: PetFormProps): JSX.Element {
  return (
    <form method='post' action={action} class='form' novalidate>
      <CsrfField token={csrfToken} />
      {errors.form !== undefined && <p class='form-error' role='alert' safe>{errors.form}</p>}
      <Field name='name' label='Name' value={values.name} error={errors.name} maxlength={50} autocomplete='off' />
      <Field name='age' label='Age' hint='For example "8 months" or "2 years".' value={values.age} error={errors.age} maxlength={30} autocomplete='off' />
      <Field name='bio' label='Bio' value={values.bio} error={errors.bio} maxlength={500} multiline required={false} />
      <button type='submit' class='button' safe>{submitLabel}</button>
    </form>
  )
}
