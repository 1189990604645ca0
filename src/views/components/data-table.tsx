/**
 * A table of records that stacks into labelled rows on narrow screens (.stack-table): the caption for
 * screen readers, one header a column; a column named only for screen readers ({ hidden }) holds buttons.
 */
import type { PropsWithChildren } from '@kitajs/html'

export type Column = string | { hidden: string }

export function DataTable ({ caption, columns, children }: PropsWithChildren<{ caption: string, columns: Column[] }>): JSX.Element {
  return (
    <div class='table-wrap'>
      <table class='stack-table'>
        <caption class='visually-hidden' safe>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => typeof c === 'string'
              ? <th scope='col' safe>{c}</th>
              : <th scope='col'><span class='visually-hidden' safe>{c.hidden}</span></th>)}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  )
}
