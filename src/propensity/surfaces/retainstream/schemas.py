"""Request and response bodies of spec/retainstream.md's auth and health endpoints."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LoginRequest(BaseModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class RegisterRequest(BaseModel):
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    name: str = Field(default="", max_length=200)


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str


class LoginData(BaseModel):
    token: str
    user: UserOut


class LoginResponse(BaseModel):
    success: bool = True
    data: LoginData


class MessageResponse(BaseModel):
    success: bool = True
    message: str


class HealthResponse(BaseModel):
    status: str
    timestamp: str
    service: str
    version: str
