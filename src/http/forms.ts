/**
 * Form parsing with Zod: one schema gives the typed values and a message per field. Anything that is not
 * a flat object of strings (a field sent twice arrives as an array) fails validation, never a 500.
 */
import { z } from 'zod'
import { isCommonPassword } from '../auth/common-passwords.js'
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, normalizePassword, passwordLength } from '../auth/password-rules.js'

/** The most a request body may carry, form or JSON: larger ones get 413. */
export const BODY_LIMIT_BYTES = 64 * 1024

export type FieldErrors<K extends string> = Partial<Record<K, string>>

export type FormResult<T> =
  | { ok: true, data: T }
  | { ok: false, errors: FieldErrors<Extract<keyof T, string>>, raw: Record<string, unknown> }

export function asRecord (body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? body as Record<string, unknown> : {}
}

/** A text field: one value, not a list (a field sent twice), and no NUL character (PostgreSQL text cannot hold one). */
export const text = (label: string) => z.string({ error: `${label} must be a single text value.` })
  .refine((v) => !v.includes('\0'), { error: 'Remove invisible or control characters.' })

export function parseForm<S extends z.ZodObject> (schema: S, body: unknown): FormResult<z.output<S>> {
  const raw = asRecord(body)
  const result = schema.safeParse(raw)
  if (result.success) return { ok: true, data: result.data }
  const errors: Record<string, string> = {}
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? 'form')
    errors[field] ??= issue.message
  }
  return { ok: false, errors: errors as FieldErrors<Extract<keyof z.output<S>, string>>, raw }
}

/** The value to put back in a re-rendered field: the typed string, or nothing if it was not a string. */
export function echo (raw: Record<string, unknown>, field: string): string {
  const value = raw[field]
  return typeof value === 'string' ? value.slice(0, 1000) : ''
}

export const emailField = text('Email')
  .trim()
  .min(1, { error: 'Enter your email address.' })
  .max(254, { error: 'Email addresses are at most 254 characters.' })
  .pipe(z.email({ error: 'Enter a valid email address, like name@example.com.' }))
  .transform((email) => email.toLowerCase())

export const newPasswordField = text('Password')
  .transform(normalizePassword)
  .refine((p) => passwordLength(p) >= MIN_PASSWORD_LENGTH, { error: `Use at least ${MIN_PASSWORD_LENGTH} characters.` })
  .refine((p) => passwordLength(p) <= MAX_PASSWORD_LENGTH, { error: `Use at most ${MAX_PASSWORD_LENGTH} characters.` })
  .refine((p) => !isCommonPassword(p), { error: 'This password is too common. Please choose another.' })

/** A password being checked, not chosen: only bounded, so nobody can make us hash a megabyte. */
export const existingPasswordField = text('Password')
  .max(MAX_PASSWORD_LENGTH * 4, { error: 'Enter your password.' })
  .transform(normalizePassword)

/** A refinement for a form whose `confirmPassword` must repeat the password field `field`. */
export function confirms<K extends string> (field: K) {
  return (form: Record<K | 'confirmPassword', string>, ctx: z.RefinementCtx) => {
    if (normalizePassword(form.confirmPassword) !== form[field]) {
      ctx.addIssue({ code: 'custom', path: ['confirmPassword'], message: 'The passwords do not match.' })
    }
  }
}

export const checkbox = z.unknown().optional().transform((v) => v === 'on' || v === 'true' || v === '1')
