/** The home page: every pet with picture, name, age and bio, each linking to its own page. */
import type { Pet } from '../../db/schema.js'
import type { PageContext } from '../context.js'
import { Layout } from '../layout.js'
import { keptHtml } from '../sync.js'

function PetGrid ({ pets }: { pets: readonly Pet[] }): JSX.Element {
  if (pets.length === 0) return <p>No pets are waiting for a home right now. Please check back soon.</p>
  return (
    <ul class='pets-grid' aria-label='Pets looking for a home'>
      {pets.map((pet) => (
        <li class='pet-card'>
          <a href={`/pets/${pet.id}`} class='pet-card-link'>
            <img src={`/static/images/pets/${pet.picture}`} alt={`${pet.name}, ${pet.age}`} width='320' height='240' loading='lazy' />
            <h2 safe>{pet.name}</h2>
          </a>
          <p class='pet-age' safe>{pet.age}</p>
          <p class='pet-bio' safe>{pet.bio}</p>
        </li>
      ))}
    </ul>
  )
}

/**
 * The grid is the same for every visitor, so it is rendered once per list: the catalog hands out the same
 * array until the pets change (src/pets/catalog.ts), and a new array renders anew.
 */
const renderedGrids = new WeakMap<readonly Pet[], string>()

function petGridHtml (pets: readonly Pet[]): string {
  let html = renderedGrids.get(pets)
  if (html === undefined) {
    html = keptHtml(<PetGrid pets={pets} />)
    renderedGrids.set(pets, html)
  }
  return html
}

export function HomePage ({ ctx, pets }: { ctx: PageContext, pets: readonly Pet[] }): JSX.Element {
  const safePetGrid = petGridHtml(pets)
  return (
    <Layout title='Home' ctx={ctx}>
      <section class='hero'>
        <h1>Find your new best friend</h1>
        <p>Every pet here was rescued, cared for and is ready for a loving home.</p>
        {ctx.user?.role === 'staff' && <p><a class='button' href='/pets/new'>Add a pet</a></p>}
      </section>
      {safePetGrid}
    </Layout>
  )
}
