/** The one page frame: head, navbar, the one-time message, the page's content and the footer. */
import type { PropsWithChildren } from '@kitajs/html'
import type { PageContext } from './context.js'
import { Navbar } from './components/navbar.js'
import { keptHtml } from './sync.js'

export type LayoutProps = PropsWithChildren<{
  title: string
  ctx: PageContext
  /** Module scripts this page needs (under /static/): only the passkey pages have one; every other page has none. */
  scripts?: readonly string[]
}>

/*
 * The parts of the frame that never change are rendered once, when the module loads: every page view would
 * otherwise build them again, element by element.
 */
const safeHeadEnd = keptHtml(
  <>
    <meta name='description' content='Paws Rescue Center finds loving homes for rescued cats and dogs.' />
    <link rel='stylesheet' href='/static/css/site.css' />
    <link rel='icon' href='/static/images/logo.svg' type='image/svg+xml' />
  </>
)

const safeFooter = keptHtml(
  <footer class='site-footer'>
    <div class='container'>
      <p>Paws Rescue Center · Every pet deserves a home.</p>
      <p><a href='/about'>About us</a></p>
    </div>
  </footer>
)

export function Layout ({ title, ctx, scripts, children }: LayoutProps): JSX.Element {
  return (
    <html lang='en'>
      <head>
        <meta charset='utf-8' />
        <meta name='viewport' content='width=device-width, initial-scale=1' />
        <title safe>{title} · Paws Rescue Center</title>
        {safeHeadEnd}
        {scripts?.map((src) => <script type='module' src={src} />)}
      </head>
      <body>
        <a class='skip-link' href='#main'>Skip to content</a>
        <header class='site-header'>
          <Navbar ctx={ctx} />
        </header>
        <main id='main' class='container'>
          {ctx.flash !== null && <p class='flash' role='status' safe>{ctx.flash}</p>}
          {children}
        </main>
        {safeFooter}
      </body>
    </html>
  )
}
