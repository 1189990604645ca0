/** Error pages: a heading and a plain message, never internals. */
import type { PageContext } from '../context.js'
import { Layout } from '../layout.js'

export interface ErrorPageProps {
  ctx: PageContext
  title: string
  message: string
}

export function ErrorPage ({ ctx, title, message }: ErrorPageProps): JSX.Element {
  return (
    <Layout title={title} ctx={ctx}>
      <section class='error-page'>
        <h1 safe>{title}</h1>
        <p safe>{message}</p>
        <p><a href='/'>Back to the home page</a></p>
      </section>
    </Layout>
  )
}
