/** The site navigation: Sign up and Log in for visitors; the user's name and a Log out button once signed in. */
import type { PageContext } from '../context.js'
import { keptHtml } from '../sync.js'
import { CsrfField } from './csrf-field.js'

function NavLink ({ href, path, label }: { href: string, path: string, label: string }): JSX.Element {
  return <li><a href={href} aria-current={path === href ? 'page' : undefined} safe>{label}</a></li>
}

/** The same on every page: rendered once. */
const safeBrand = keptHtml(
  <a class='brand' href='/'>
    <img src='/static/images/logo.svg' alt='' width='32' height='32' />
    <span>Paws Rescue Center</span>
  </a>
)

export function Navbar ({ ctx }: { ctx: PageContext }): JSX.Element {
  return (
    <nav class='navbar' aria-label='Main'>
      {safeBrand}
      <ul class='nav-links'>
        <NavLink href='/' path={ctx.path} label='Home' />
        <NavLink href='/about' path={ctx.path} label='About' />
        {ctx.user === null
          ? (
            <>
              <NavLink href='/signup' path={ctx.path} label='Sign up' />
              <NavLink href='/login' path={ctx.path} label='Log in' />
            </>
            )
          : (
            <>
              {ctx.user.role === 'staff' && <NavLink href='/staff/people' path={ctx.path} label='People' />}
              <li><a href='/account' class='nav-user' aria-current={ctx.path === '/account' ? 'page' : undefined} safe>{ctx.user.fullName}</a></li>
              <li>
                <form method='post' action='/logout' class='inline-form'>
                  <CsrfField token={ctx.csrfToken()} />
                  <button type='submit' class='button button-small'>Log out</button>
                </form>
              </li>
            </>
            )}
      </ul>
    </nav>
  )
}
