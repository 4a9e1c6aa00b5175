// The sidebar every page shows, built from the collections so a new session or pattern appears
// without touching config. Passed to Starlight's <StarlightPage sidebar=…>.
import type { SiteData } from './site-data.ts';
import { timelineByYear } from './sessions.ts';

type SidebarItem = { label: string; link: string; attrs?: Record<string, string> } | { label: string; collapsed?: boolean; items: SidebarItem[] };

export function siteSidebar(data: SiteData, currentYear?: number): SidebarItem[] {
  const years = timelineByYear(data.sessions).reverse();
  return [
    { label: 'Home', link: '/' },
    { label: 'About the group', link: '/about/' },
    { label: 'All sessions', link: '/sessions/' },
    ...years.map((y) => ({
      label: `Sessions ${y.year}`,
      collapsed: currentYear !== y.year,
      items: y.months
        .flatMap((m) => m.sessions)
        .reverse()
        .map((s) => ({ label: s.data.title.split(':')[0], link: `/sessions/${s.id}/` })),
    })),
    {
      label: 'Patterns',
      items: [{ label: 'All patterns', link: '/patterns/' }, ...data.patterns.map((p) => ({ label: p.data.title, link: `/patterns/${p.id}/` }))],
    },
    {
      label: 'Reference',
      items: [
        { label: 'Calendar history', link: '/calendar/' },
        { label: 'Follow-ups tracker', link: '/follow-ups/' },
        { label: 'Limits over time', link: '/limits/' },
        { label: 'OpenChat architecture', link: '/openchat/' },
      ],
    },
    { label: 'Glossary', link: '/glossary/' },
  ];
}
