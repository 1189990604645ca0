/** The hidden field that carries the form token; every POST form includes it. */
export const CSRF_FIELD = '_csrf'

export function CsrfField ({ token }: { token: string }): JSX.Element {
  return <input type='hidden' name={CSRF_FIELD} value={token} />
}
