/** Who the rescue center is. */
import type { PageContext } from '../context.js'
import { Layout } from '../layout.js'

export function AboutPage ({ ctx }: { ctx: PageContext }): JSX.Element {
  return (
    <Layout title='About' ctx={ctx}>
      <article class='prose'>
        <h1>About Paws Rescue Center</h1>
        <p>
          Paws Rescue Center began with a cardboard box of five kittens left on a doorstep one cold morning.
          Today we are a small team of staff and volunteers who take in abandoned, lost and surrendered cats and
          dogs, nurse them back to health and find each of them a home that fits.
        </p>
        <h2>What we do</h2>
        <ul>
          <li>Rescue animals in need, day and night, with local shelters and vets.</li>
          <li>Give every pet a health check, vaccinations and the time it needs to trust people again.</li>
          <li>Match pets with adopters carefully: we would rather wait a week than see a pet come back.</li>
          <li>Stay in touch after adoption, with advice for the first weeks and help whenever it is needed.</li>
        </ul>
        <h2>How you can help</h2>
        <p>
          Browse the pets on our home page and create an account to follow them. Adopting, fostering for a few
          weeks, or simply telling a friend about a pet you saw here all give an animal a better chance.
        </p>
      </article>
    </Layout>
  )
}
