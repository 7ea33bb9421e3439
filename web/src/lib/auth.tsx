import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { getMe } from '../api/endpoints';
import { login, logout, onSessionChange, restore } from '../api/session';
import type { User } from '../api/types';

interface AuthValue {
  /** null when signed out; undefined while the session is being restored on load. */
  user: User | null | undefined;
  signIn(email: string, password: string): Promise<User>;
  signOut(): Promise<void>;
  setUser(u: User): void;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);

  useEffect(() => {
    let live = true;
    const off = onSessionChange((signedIn) => {
      if (!signedIn) setUser(null);
    });
    restore()
      .then((ok) => (ok ? getMe() : null))
      .then((u) => live && setUser(u))
      .catch(() => live && setUser(null));
    return () => {
      live = false;
      off();
    };
  }, []);

  const signIn = useCallback(async (email: string, password: string) => {
    await login(email, password);
    const me = await getMe();
    setUser(me);
    return me;
  }, []);

  const signOut = useCallback(async () => {
    try {
      await logout();
    } finally {
      setUser(null);
    }
  }, []);

  const value = useMemo(() => ({ user, signIn, signOut, setUser }), [user, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error('useAuth outside AuthProvider');
  return v;
}
