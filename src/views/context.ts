/** What every page receives besides its own props: the visitor, the form token and the one-time message. */
export interface ViewUser {
  id: number
  fullName: string
  email: string
  role: 'staff' | 'adopter'
}

export interface PageContext {
  user: ViewUser | null
  /** Hidden-field value that every form on the page must carry. */
  csrfToken: () => string
  flash: string | null
  path: string
}
