/**
 * A rendered element that will be kept and reused (the frame's unchanging parts, the pet grid), as one flat
 * string. Rendering builds a string out of many small pieces, and V8 keeps it that way (a rope) until it is
 * read; a page that contains a kept rope would walk all of its pieces again on every view when the page is
 * encoded. Copying it once through a Buffer leaves a flat string. Every component of this site renders
 * synchronously, to a string.
 */
export function keptHtml (element: JSX.Element): string {
  return Buffer.from(renderedNow(element)).toString()
}

/** The string an element rendered to; every component of this site renders synchronously. */
export function renderedNow (element: JSX.Element): string {
  if (typeof element !== 'string') throw new TypeError('this site renders every component synchronously')
  return element
}
