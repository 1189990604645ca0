/** The team's rules as plain functions: whose role may change, who may be suspended. */
import { describe, expect, it } from 'vitest'
import { canChangeRole, canSuspend } from '../../src/auth/people.js'

describe('canChangeRole', () => {
  it('nobody changes their own role', () => {
    expect(canChangeRole(7, { id: 7, role: 'staff' }, 'adopter', 3)).toBe('self')
  })
  it('the last staff account that can log in never loses its role', () => {
    expect(canChangeRole(1, { id: 7, role: 'staff' }, 'adopter', 0)).toBe('last-staff')
    expect(canChangeRole(null, { id: 7, role: 'staff' }, 'adopter', 0)).toBe('last-staff')
    expect(canChangeRole(null, { id: 7, role: 'staff' }, 'adopter', 1)).toBeNull()
  })
  it('making someone staff needs no count; the same role is no change', () => {
    expect(canChangeRole(1, { id: 7, role: 'adopter' }, 'staff', 0)).toBeNull()
    expect(canChangeRole(1, { id: 7, role: 'adopter' }, 'adopter', 0)).toBe('unchanged')
  })
})

describe('canSuspend', () => {
  it('nobody suspends themselves; a suspended account is not suspended again', () => {
    expect(canSuspend(7, { id: 7, suspended_at: null })).toBe('self')
    expect(canSuspend(1, { id: 7, suspended_at: 5 })).toBe('unchanged')
    expect(canSuspend(1, { id: 7, suspended_at: null })).toBeNull()
  })
})
