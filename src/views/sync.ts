/** A rendered element as the string it is: every component of this site renders synchronously. */
export function syncHtml (element: JSX.Element): string {
  if (typeof element !== 'string') throw new TypeError('this site renders every component synchronously')
  return element
}
