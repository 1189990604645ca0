/** One pet: picture, name, age and bio; staff also see the edit form and the delete button. */
import type { Pet } from '../../db/schema.js'
import type { PageContext } from '../context.js'
import { Layout } from '../layout.js'
import { CsrfField } from '../components/csrf-field.js'
import { PetForm, type PetFormErrors, type PetFormValues } from '../components/pet-form.js'

export interface PetPageProps {
  ctx: PageContext
  pet: Pet
  form?: { values: PetFormValues, errors: PetFormErrors }
}

export function PetPage ({ ctx, pet, form }: PetPageProps): JSX.Element {
  return (
    <Layout title={pet.name} ctx={ctx}>
      <article class='pet-detail'>
        <img src={`/static/images/pets/${pet.picture}`} alt={`${pet.name}, ${pet.age}`} width='480' height='360' />
        <div>
          <h1 safe>{pet.name}</h1>
          <p class='pet-age' safe>{pet.age}</p>
          <p class='pet-bio' safe>{pet.bio}</p>
          <p><a href='/'>See all pets</a></p>
        </div>
      </article>
      {ctx.user?.role === 'staff' && (
        <section class='staff-controls' aria-labelledby='edit-heading'>
          <h2 id='edit-heading'>Edit this pet</h2>
          <PetForm
            action={`/pets/${pet.id}`}
            submitLabel='Save changes'
            csrfToken={ctx.csrfToken()}
            values={form?.values ?? { name: pet.name, age: pet.age, bio: pet.bio }}
            errors={form?.errors ?? {}}
          />
          <h2>Remove this pet</h2>
          <p><a class='button button-danger' href={`/pets/${pet.id}/delete`}>Delete…</a></p>
        </section>
      )}
    </Layout>
  )
}

export function NewPetPage ({ ctx, values, errors }: { ctx: PageContext, values: PetFormValues, errors: PetFormErrors }): JSX.Element {
  return (
    <Layout title='Add a pet' ctx={ctx}>
      <h1>Add a pet</h1>
      <PetForm action='/pets/new' submitLabel='Add pet' csrfToken={ctx.csrfToken()} values={values} errors={errors} />
    </Layout>
  )
}

export function DeletePetPage ({ ctx, pet }: { ctx: PageContext, pet: Pet }): JSX.Element {
  return (
    <Layout title={`Delete ${pet.name}`} ctx={ctx}>
      <h1>Delete <span safe>{pet.name}</span>?</h1>
      <p>This removes the pet from the site for everyone. It cannot be undone.</p>
      <form method='post' action={`/pets/${pet.id}/delete`} class='form'>
        <CsrfField token={ctx.csrfToken()} />
        <button type='submit' class='button button-danger'>Yes, delete <span safe>{pet.name}</span></button>
        <a href={`/pets/${pet.id}`} class='button button-secondary'>Cancel</a>
      </form>
    </Layout>
  )
}
