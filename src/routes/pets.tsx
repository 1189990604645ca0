/** Pet management for the rescue team: add, edit, delete. Everyone else is refused before any change. */
import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { isUniqueViolation } from '../db/connect.js'
import { deletePet, findPet, insertPet, type PetFields, updatePet } from '../db/queries/pets.js'
import { notFound } from '../http/errors.js'
import { setFlash } from '../http/flash.js'
import { asRecord, echo, parseForm, text } from '../http/forms.js'
import { requireStaff } from '../http/guards.js'
import { pageContext, render } from '../http/render.js'
import type { Services } from '../services.js'
import type { PetFormErrors } from '../views/components/pet-form.js'
import { DeletePetPage, NewPetPage, PetPage } from '../views/pages/pet.js'
import { parseId } from './pages.js'

const NAME_TAKEN = 'Another pet already has this name.'
const DEFAULT_PICTURE = 'paw.svg'

/** Letters of any script, marks, digits, spaces and a little punctuation; no control or invisible characters. */
const plainText = /^[\p{L}\p{M}\p{N}\p{Zs}.,'’"!?&()\-:;/]*$/u

const petSchema = z.object({
  name: text('Name').trim()
    .min(1, { error: 'Enter a name.' }).max(50, { error: 'Use at most 50 characters.' })
    .regex(plainText, { error: 'Use letters, numbers, spaces and simple punctuation only.' }),
  age: text('Age').trim()
    .min(1, { error: 'Enter an age, like "8 months".' }).max(30, { error: 'Use at most 30 characters.' })
    .regex(plainText, { error: 'Use letters, numbers, spaces and simple punctuation only.' }),
  bio: text('Bio').trim()
    .max(500, { error: 'Use at most 500 characters.' })
    .regex(/^(?:[^\p{Cc}\p{Cf}]|[\r\n\t\u200d])*$/u, { error: 'Remove invisible or control characters.' })
})

type IdParams = { Params: { id: string } }

function typedValues (body: unknown) {
  const raw = asRecord(body)
  return { name: echo(raw, 'name'), age: echo(raw, 'age'), bio: echo(raw, 'bio') }
}

export async function petRoutes (app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { db, clock } = services
  const guarded = { preHandler: requireStaff }

  app.get('/pets/new', guarded, async (request, reply) =>
    render(reply, <NewPetPage ctx={pageContext(request, reply, services)} values={{ name: '', age: '', bio: '' }} errors={{}} />))

  app.post('/pets/new', guarded, async (request, reply) => {
    const showForm = (errors: PetFormErrors) =>
      render(reply, <NewPetPage ctx={pageContext(request, reply, services)} values={typedValues(request.body)} errors={errors} />, 400)
    const form = parseForm(petSchema, request.body)
    if (!form.ok) return showForm(form.errors)
    try {
      const pet = await insertPet(db.kysely, { ...form.data, picture: DEFAULT_PICTURE }, clock())
      request.log.info({ petId: pet.id, userId: request.user?.id }, 'pet added')
      setFlash(reply, services, 'pet-added')
      return await reply.redirect(`/pets/${pet.id}`, 303)
    } catch (error) {
      if (isUniqueViolation(error)) return showForm({ name: NAME_TAKEN })
      throw error
    }
  })

  app.post<IdParams>('/pets/:id', guarded, async (request, reply) => {
    const id = parseId(request.params.id)
    const pet = id === null ? undefined : await findPet(db.kysely, id)
    if (pet === undefined) return notFound(request, reply, services)
    const showForm = (errors: PetFormErrors) =>
      render(reply, <PetPage ctx={pageContext(request, reply, services)} pet={pet} form={{ values: typedValues(request.body), errors }} />, 400)
    const form = parseForm(petSchema, request.body)
    if (!form.ok) return showForm(form.errors)
    try {
      await updatePet(db.kysely, pet.id, form.data satisfies PetFields, clock())
    } catch (error) {
      if (isUniqueViolation(error)) return showForm({ name: NAME_TAKEN })
      throw error
    }
    request.log.info({ petId: pet.id, userId: request.user?.id }, 'pet updated')
    setFlash(reply, services, 'pet-updated')
    return await reply.redirect(`/pets/${pet.id}`, 303)
  })

  app.get<IdParams>('/pets/:id/delete', guarded, async (request, reply) => {
    const id = parseId(request.params.id)
    const pet = id === null ? undefined : await findPet(db.kysely, id)
    if (pet === undefined) return notFound(request, reply, services)
    return render(reply, <DeletePetPage ctx={pageContext(request, reply, services)} pet={pet} />)
  })

  app.post<IdParams>('/pets/:id/delete', guarded, async (request, reply) => {
    const id = parseId(request.params.id)
    if (id === null || !await deletePet(db.kysely, id)) return notFound(request, reply, services)
    request.log.info({ petId: id, userId: request.user?.id }, 'pet deleted')
    setFlash(reply, services, 'pet-deleted')
    return await reply.redirect('/', 303)
  })
}
