/** Public pages: the pets, one pet, about, and the health check. */
import type { FastifyInstance } from 'fastify'
import { findPet } from '../db/queries/pets.js'
import { notFound } from '../http/errors.js'
import { setFlash } from '../http/flash.js'
import { keptPageRenderer, pageContext, render } from '../http/render.js'
import type { Pet } from '../db/schema.js'
import type { Services } from '../services.js'
import { AboutPage } from '../views/pages/about.js'
import { HomePage } from '../views/pages/home.js'
import { PetPage } from '../views/pages/pet.js'

/** Ids are positive integers that fit the database's integer column; anything else is simply not found. */
export function parseId (raw: string): number | null {
  return /^[1-9]\d{0,8}$/.test(raw) ? Number(raw) : null
}

export async function pageRoutes (app: FastifyInstance, { services }: { services: Services }): Promise<void> {
  const { db } = services
  const renderHome = keptPageRenderer<readonly Pet[]>(services)

  app.get<{ Querystring: Record<string, string | undefined> }>('/', async (request, reply) => {
    if (request.query['logged-out'] !== undefined) {
      setFlash(reply, services, 'logged-out')
      return await reply.redirect('/', 303)
    }
    const pets = await services.pets.list()
    return await renderHome(request, reply, pets, (ctx) => <HomePage ctx={ctx} pets={pets} />)
  })

  app.get('/about', async (request, reply) =>
    render(reply, <AboutPage ctx={pageContext(request, reply, services)} />))

  app.get<{ Params: { id: string } }>('/pets/:id', async (request, reply) => {
    const id = parseId(request.params.id)
    const pet = id === null ? undefined : await findPet(db.kysely, id)
    if (pet === undefined) return notFound(request, reply, services)
    return render(reply, <PetPage ctx={pageContext(request, reply, services)} pet={pet} />)
  })

  app.get('/healthz', async (request, reply) => {
    try {
      // A real table, not just `select 1`: the database answers and carries the schema.
      await db.kysely.selectFrom('app_meta').select('key').limit(1).execute()
      return await reply.header('cache-control', 'no-store').send({ status: 'ok' })
    } catch (error) {
      request.log.error({ err: error }, 'health check: database does not answer')
      return await reply.code(503).header('cache-control', 'no-store').send({ status: 'unavailable' })
    }
  })
}
