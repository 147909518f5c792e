import { getDb } from '../../platform/db/client';
import { NotFoundError } from '../../platform/errors/app-error';

/**
 * Sets what a socket hears: the whole clinic (`clinic`), or one of the clinic's professionals. A
 * professional of another clinic is not found, so a key never learns that another clinic's id
 * exists. Returns the socket with its new scope, ready for the backlog of that scope.
 */
export async function subscribe<C extends { connectionId: string; clinicId: string }>(
  connection: C,
  professionalId?: string,
): Promise<C & { scope: string }> {
  const db = await getDb();
  let scope = 'clinic';
  if (professionalId) {
    const professional = await db.professional.findFirst({
      where: { id: professionalId, clinicId: connection.clinicId },
      select: { id: true },
    });
    if (!professional) throw new NotFoundError('Professional not found');
    scope = professional.id;
  }
  await db.socketConnection.update({ where: { connectionId: connection.connectionId }, data: { scope } });
  return { ...connection, scope };
}
