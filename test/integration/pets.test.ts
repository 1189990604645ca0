/** Staff-only pet management: staff add, edit and delete; adopters get 403; visitors are sent to log in. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { DEMO_STAFF, TestBrowser, fieldError, fieldValue, flashText } from '../helpers/browser.js'

let t: TestApp
let staff: TestBrowser
let adopter: TestBrowser
beforeAll(async () => {
  t = await createTestApp()
  staff = new TestBrowser(t.app)
  await staff.login(DEMO_STAFF.email, DEMO_STAFF.password)
  adopter = new TestBrowser(t.app)
  await adopter.signup('Ada Opter', 'adopter@example.com', 'adopting a kitten 7')
})
afterAll(async () => { await t.close() })

async function petId (name: string): Promise<number> {
  return (await t.db.kysely.selectFrom('pets').select('id').where('name', '=', name).executeTakeFirstOrThrow()).id
}
async function petNames (): Promise<string[]> {
  return (await t.db.kysely.selectFrom('pets').select('name').orderBy('id').execute()).map((p) => p.name)
}

describe('staff', () => {
  it('can add a pet; the home page shows it with a one-time message', async () => {
    const res = await staff.post('/pets/new', { name: 'Pepper', age: '3 years', bio: 'A calm lap dog who loves walks.' })
    expect(res.statusCode).toBe(303)
    const page = await staff.follow(res)
    expect(flashText(page.body)).toBe('The pet has been added.')
    expect(page.body).toContain('<h1>Pepper</h1>')
    expect((await staff.get('/')).body).toContain('<h2>Pepper</h2>')
  })

  it('can edit a pet from a form on its page', async () => {
    const id = await petId('Basker')
    const page = await staff.get(`/pets/${id}`)
    expect(page.body).toContain('Edit this pet')
    const res = await staff.post(`/pets/${id}`, { name: 'Basker', age: '2 years', bio: 'Still barking, still loving.' }, { from: `/pets/${id}` })
    expect(res.statusCode).toBe(303)
    expect(flashText((await staff.follow(res)).body)).toBe('The pet has been updated.')
    expect((await staff.get('/')).body).toContain('Still barking, still loving.')
  })

  it('can delete a pet after a confirmation page', async () => {
    const id = await petId('Pepper')
    const confirm = await staff.get(`/pets/${id}/delete`)
    expect(confirm.statusCode).toBe(200)
    expect(confirm.body).toContain('This removes the pet from the site for everyone.')
    const res = await staff.post(`/pets/${id}/delete`, {}, { from: `/pets/${id}/delete` })
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/')
    expect(flashText((await staff.follow(res)).body)).toBe('The pet has been deleted.')
    expect(await petNames()).not.toContain('Pepper')
    expect((await staff.get(`/pets/${id}`)).statusCode).toBe(404)
  })

  it('a failed form re-renders with messages and the typed values, and changes nothing', async () => {
    const before = await petNames()
    const res = await staff.post('/pets/new', { name: '', age: 'x'.repeat(31), bio: 'b'.repeat(501) })
    expect(res.statusCode).toBe(400)
    expect(fieldError(res.body, 'name')).toBe('Enter a name.')
    expect(fieldError(res.body, 'age')).toBe('Use at most 30 characters.')
    expect(fieldError(res.body, 'bio')).toBe('Use at most 500 characters.')
    expect(fieldValue(res.body, 'age')).toBe('x'.repeat(31))
    const long = await staff.post('/pets/new', { name: 'n'.repeat(51), age: '1 year', bio: '' })
    expect(fieldError(long.body, 'name')).toBe('Use at most 50 characters.')
    expect(await petNames()).toEqual(before)
  })

  it('names are unique, whatever their case', async () => {
    const res = await staff.post('/pets/new', { name: 'nelly', age: '1 year', bio: 'Another Nelly' })
    expect(res.statusCode).toBe(400)
    expect(fieldError(res.body, 'name')).toBe('Another pet already has this name.')
    const id = await petId('Yuki')
    const rename = await staff.post(`/pets/${id}`, { name: 'NELLY', age: '8 months', bio: 'x' }, { from: `/pets/${id}` })
    expect(rename.statusCode).toBe(400)
    expect(fieldError(rename.body, 'name')).toBe('Another pet already has this name.')
    expect(await petNames()).toContain('Yuki')
  })

  it('unknown pets give 404 for edit and delete', async () => {
    expect((await staff.post('/pets/999999', { name: 'Ghost', age: '1', bio: '' }, { from: '/' })).statusCode).toBe(404)
    expect((await staff.post('/pets/999999/delete', {}, { from: '/' })).statusCode).toBe(404)
    expect((await staff.get('/pets/abc/delete')).statusCode).toBe(404)
  })
})

describe('everyone else', () => {
  it('an adopter gets a 403 page for every management action, and nothing changes', async () => {
    const before = await petNames()
    const id = await petId('Nelly')
    expect((await adopter.get('/pets/new')).statusCode).toBe(403)
    expect((await adopter.get(`/pets/${id}/delete`)).statusCode).toBe(403)
    for (const [url, fields] of [['/pets/new', { name: 'Intruder', age: '1', bio: '' }], [`/pets/${id}`, { name: 'Hacked', age: '1', bio: '' }], [`/pets/${id}/delete`, {}]] as const) {
      const res = await adopter.post(url, fields, { from: '/' })
      expect(res.statusCode, url).toBe(403)
      expect(res.body).toContain('Only the rescue team can do this.')
    }
    expect(await petNames()).toEqual(before)
  })

  it('an anonymous visitor is sent to log in', async () => {
    const visitor = new TestBrowser(t.app)
    const res = await visitor.get('/pets/new')
    expect(res.statusCode).toBe(303)
    expect(res.headers.location).toBe('/login?next=%2Fpets%2Fnew')
    const id = await petId('Nelly')
    const post = await visitor.post(`/pets/${id}/delete`, {}, { from: '/login' })
    expect(post.statusCode).toBe(303)
    expect(post.headers.location).toBe('/login')
    expect(await petNames()).toContain('Nelly')
  })

  it('the controls appear only for staff', async () => {
    const id = await petId('Nelly')
    for (const browser of [adopter, new TestBrowser(t.app)]) {
      const page = (await browser.get(`/pets/${id}`)).body
      expect(page).not.toContain('Edit this pet')
      expect(page).not.toContain('/delete')
      expect((await browser.get('/')).body).not.toContain('Add a pet')
    }
    expect((await staff.get('/')).body).toContain('Add a pet')
  })
})
