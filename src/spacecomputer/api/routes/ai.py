"""``/ai``: questions about my analyses in plain language, answered by the brain, with conversation history.

``POST /ai/ask`` asks one question about one of my succeeded analyses: without ``conversation_id`` it starts a
conversation, with one it continues it (the history goes to a configured LLM, and a follow-up such as "and the
right one?" keeps the previous question's subject). Every answer is the orchestrator's typed answer: its text, the
route that produced it, its citations, every number with its provenance, the validation it passed, follow-ups.
Conversations are stored (``GET /ai/conversations``, ``GET /ai/conversations/{id}``) and deleted with the analysis
or the account. Every route needs ``ai.query``; another user's analysis or conversation is a 404.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from spacecomputer.api._ai import AIService
from spacecomputer.api._ai_schemas import AnswerPublic, AskRequest, AskResponse, ConversationPublic, MessagePublic
from spacecomputer.api._deps import API_PREFIX, CurrentUser, PlatformDep, SessionDep, require_permission
from spacecomputer.api._errors import BODY, error_responses
from spacecomputer.api._platform_metrics import PlatformMetricsDep
from spacecomputer.api._runs import RunFiles, analysis_cache_prefix, cached_text, owned_analysis
from spacecomputer.brain import Message, QueryContext, answer_from_dict, answer_to_dict, follow_up_of
from spacecomputer.errors import NotFoundError
from spacecomputer.storage import Analysis, Conversation, MessageRole
from spacecomputer.storage import Message as StoredMessage

__all__ = ["HISTORY_MESSAGES", "router"]

HISTORY_MESSAGES = 12
"""Messages of a conversation given to the LLM as history (the newest)."""
ANSWER_TTL_S = 3600.0
"""Lifetime of a cached first answer, seconds."""

router = APIRouter(
    prefix=f"{API_PREFIX}/ai",
    tags=["ai"],
    dependencies=[Depends(require_permission("ai.query"))],
    responses=error_responses(401, 403),
)


def get_ai(request: Request) -> AIService:
    """Return the app's :class:`AIService` (created on first use, on the app's metrics registry)."""
    state = request.app.state
    if getattr(state, "ai", None) is None:
        state.ai = AIService(state.platform.settings, state.metrics.registry)
    service: AIService = state.ai
    return service


AIDep = Annotated[AIService, Depends(get_ai)]


async def _owned_conversation(session: AsyncSession, owner_id: uuid.UUID, conversation_id: uuid.UUID) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.owner_id != owner_id:
        raise NotFoundError(
            f"conversation {conversation_id} not found",
            details={"resource": "conversation", "id": str(conversation_id)},
        )
    return conversation


async def _messages(session: AsyncSession, conversation_id: uuid.UUID) -> list[StoredMessage]:
    rows = await session.scalars(
        sa.select(StoredMessage)
        .where(StoredMessage.conversation_id == conversation_id)
        .order_by(StoredMessage.created_at, StoredMessage.id)
    )
    return list(rows)


async def _forget_deleted(ai: AIService, session: AsyncSession) -> None:
    """Drop the mirrors of analyses that no longer exist (deleted with their analysis or their account)."""
    mirrored = ai.mirrored()
    if mirrored:
        alive = set(await session.scalars(sa.select(Analysis.id).where(Analysis.id.in_(mirrored))))
        ai.forget([analysis_id for analysis_id in mirrored if analysis_id not in alive])


@router.post("/ask", responses=error_responses(*BODY, 404, 409))
async def ask(
    body: AskRequest,
    user: CurrentUser,
    session: SessionDep,
    platform: PlatformDep,
    metrics: PlatformMetricsDep,
    ai: AIDep,
) -> AskResponse:
    """Ask a question about one of my analyses; the answer says which engine produced it and cites its sources.

    404 for an analysis or conversation that is not mine (or a conversation about another analysis); 409 for an
    analysis that has not succeeded; 422 for an empty question (a long one is cut to the brain's cap, not refused).
    """
    started = time.perf_counter()
    user_id = user.id
    analysis = await owned_analysis(session, user_id, body.analysis_id)
    run = RunFiles.of(platform, metrics, analysis)
    conversation = None
    if body.conversation_id is not None:
        conversation = await _owned_conversation(session, user.id, body.conversation_id)
        if conversation.analysis_id != analysis.id:
            raise NotFoundError(
                f"conversation {conversation.id} is not about analysis {analysis.id}",
                details={"resource": "conversation", "id": str(conversation.id)},
            )
    history = await _messages(session, conversation.id) if conversation is not None else []
    await _forget_deleted(ai, session)
    analysis_id, conversation_id = analysis.id, conversation.id if conversation is not None else None
    orchestrator = await asyncio.to_thread(ai.orchestrator)
    context = QueryContext(analysis_id=str(analysis_id), frame=body.frame, joint=body.joint, expertise=body.expertise)
    parsed = orchestrator.parse(body.question, context)
    previous_questions = [m.content for m in history if m.role is MessageRole.USER]
    if previous_questions:
        parsed = follow_up_of(parsed, orchestrator.parse(previous_questions[-1], context))
    turns = tuple(Message(m.role.value, m.content) for m in history[-HISTORY_MESSAGES:])
    await session.rollback()  # release the connection while the run is mirrored and the question answered
    run_dir = await ai.run_dir(analysis_id, run)

    async def compute() -> str:
        answer = await asyncio.to_thread(orchestrator.answer, parsed, run_dir, history=turns)
        return json.dumps(answer_to_dict(answer), allow_nan=False)

    if turns:
        answer = answer_from_dict(json.loads(await compute()))
    else:
        key = analysis_cache_prefix(user_id, analysis_id) + ai.cache_key(parsed)
        text = await cached_text(
            platform, metrics, key=key, cache_name="ai_answer", compute=compute, ttl_s=ANSWER_TTL_S
        )
        answer = answer_from_dict(json.loads(text))
    if conversation_id is None:
        started_conversation = Conversation(owner_id=user_id, analysis_id=analysis_id, title=parsed.text[:200])
        session.add(started_conversation)
        await session.flush()
        conversation_id = started_conversation.id
    session.add(StoredMessage(conversation_id=conversation_id, role=MessageRole.USER, content=parsed.text))
    reply = StoredMessage(
        conversation_id=conversation_id,
        role=MessageRole.ASSISTANT,
        content=answer.text,
        citations=json.loads(json.dumps(answer_to_dict(answer)["citations"])),
    )
    reply_id = reply.id
    session.add(reply)
    await session.commit()
    public = AnswerPublic.of(answer, latency_ms=(time.perf_counter() - started) * 1000.0)
    return AskResponse(conversation_id=conversation_id, message_id=reply_id, answer=public)


@router.get("/conversations", responses=error_responses(422))
async def list_conversations(
    user: CurrentUser,
    session: SessionDep,
    analysis_id: Annotated[uuid.UUID | None, Query(description="Only the conversations about this analysis.")] = None,
) -> list[ConversationPublic]:
    """List my conversations, newest first."""
    query = sa.select(Conversation).where(Conversation.owner_id == user.id)
    if analysis_id is not None:
        query = query.where(Conversation.analysis_id == analysis_id)
    rows = await session.scalars(query.order_by(Conversation.created_at.desc(), Conversation.id))
    return [ConversationPublic.model_validate(row, from_attributes=True) for row in rows]


@router.get("/conversations/{conversation_id}", responses=error_responses(404, 422))
async def read_conversation(conversation_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> list[MessagePublic]:
    """Return the messages of one of my conversations, oldest first (the assistant's with their citations)."""
    await _owned_conversation(session, user.id, conversation_id)
    return [MessagePublic.model_validate(m, from_attributes=True) for m in await _messages(session, conversation_id)]


@router.delete(
    "/conversations/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404, 422)
)
async def delete_conversation(conversation_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    """Delete one of my conversations and its messages."""
    conversation = await _owned_conversation(session, user.id, conversation_id)
    await session.execute(sa.delete(StoredMessage).where(StoredMessage.conversation_id == conversation.id))
    await session.delete(conversation)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/monitor", dependencies=[Depends(require_permission("admin.manage"))])
async def read_monitor(ai: AIDep) -> dict[str, object]:
    """Return the orchestrator's performance monitor (administrators only).

    Per route: answers, cache hits, validation failures, p50/p95 latency; events; LLM calls, tokens and cost —
    since this API process started.
    """
    return ai.orchestrator().monitor.snapshot()
